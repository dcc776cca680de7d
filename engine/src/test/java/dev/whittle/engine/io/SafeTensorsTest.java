package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whittle.engine.BadInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- round trips

    /** Floats whose bits a careless reader or writer would change. */
    static final float[] AWKWARD_FLOATS = {
        0f, -0f, 1f, -1.5f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.intBitsToFloat(0x007fffff) /* largest subnormal */,
        Float.MIN_NORMAL, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        Float.intBitsToFloat(0x7fc00001) /* quiet NaN with payload */, Float.intBitsToFloat(0xffc12345) /* negative NaN */,
        Float.intBitsToFloat(0x7f800001) /* signalling NaN */, 0.1f, (float) Math.PI,
    };

    static List<TensorEntry> sampleTensors() {
        byte[] i8 = new byte[256];
        byte[] u8 = new byte[256];
        for (int i = 0; i < 256; i++) {
            i8[i] = (byte) (i - 128);
            u8[i] = (byte) i;
        }
        return List.of(
                TensorEntry.ofFloats("fc1.weight", AWKWARD_FLOATS, 1, AWKWARD_FLOATS.length),
                TensorEntry.ofBytes("q.int8", DType.I8, i8, 16, 16),
                TensorEntry.ofBytes("q.packed_int4", DType.U8, u8, 256),
                TensorEntry.ofInts("labels", new int[] {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE}, 5),
                TensorEntry.ofFloats("scale", new float[] {0.25f}),
                TensorEntry.ofFloats("empty", new float[0], 0, 3),
                TensorEntry.ofInts("last", new int[] {7}, 1, 1, 1));
    }

    @Test
    void roundTripIsBitExact() throws Exception {
        Path file = dir.resolve("model.safetensors");
        List<TensorEntry> tensors = sampleTensors();
        SafeTensors.write(file, Map.of(), tensors);
        SafeTensorsFile read = SafeTensors.read(file);

        assertEquals(tensors, read.tensors());
        float[] back = read.require("fc1.weight").toFloats();
        for (int i = 0; i < AWKWARD_FLOATS.length; i++) {
            assertEquals(Float.floatToRawIntBits(AWKWARD_FLOATS[i]), Float.floatToRawIntBits(back[i]), "float #" + i);
        }
        assertArrayEquals(new int[] {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE}, read.require("labels").toInts());
        TensorEntry scalar = read.require("scale");
        assertArrayEquals(new int[0], scalar.shape());
        assertEquals(1, scalar.elementCount());
        TensorEntry empty = read.require("empty");
        assertArrayEquals(new int[] {0, 3}, empty.shape());
        assertEquals(0, empty.elementCount());
        assertEquals(0, empty.data().length);
        assertEquals(Files.size(file), read.fileBytes());
        assertEquals(file, read.path());
    }

    @Test
    void randomShapesAndDtypesRoundTrip() throws Exception {
        Random random = new Random(7);
        DType[] dtypes = DType.values();
        for (int trial = 0; trial < 60; trial++) {
            List<TensorEntry> tensors = new ArrayList<>();
            int count = random.nextInt(6);
            for (int t = 0; t < count; t++) {
                int[] shape = new int[random.nextInt(4)];
                for (int d = 0; d < shape.length; d++) shape[d] = random.nextInt(6);
                DType dtype = dtypes[random.nextInt(dtypes.length)];
                byte[] data = new byte[(int) TensorEntry.elementCount(shape) * dtype.bytes()];
                random.nextBytes(data);
                tensors.add(new TensorEntry("t" + t + "_" + "x".repeat(random.nextInt(9)), dtype, shape, data));
            }
            Map<String, String> metadata = Map.of("note", "y".repeat(random.nextInt(20)));
            Path file = dir.resolve("random-" + trial + ".safetensors");
            SafeTensors.write(file, metadata, tensors);
            SafeTensorsFile read = SafeTensors.read(file);
            assertEquals(tensors, read.tensors(), "trial " + trial);
            assertEquals(0, read.headerBytes() % 8, "trial " + trial);
        }
    }

    @Test
    void headerIsPaddedWithSpacesToAnEightByteBoundary() throws Exception {
        for (int nameLength = 1; nameLength <= 16; nameLength++) {
            Path file = dir.resolve("aligned-" + nameLength + ".safetensors");
            SafeTensors.write(file, Map.of(), List.of(TensorEntry.ofFloats("w".repeat(nameLength), new float[] {1, 2}, 2)));
            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, (8 + n) % 8, "data section offset for a name of " + nameLength);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.startsWith("{"), header);
            assertTrue(header.stripTrailing().endsWith("}"), header);
            assertTrue(header.substring(header.lastIndexOf('}') + 1).chars().allMatch(c -> c == ' '), header);
            assertTrue(header.length() - header.stripTrailing().length() < 8, "no more padding than needed");
            assertEquals(8 + n + 8, bytes.length);
            assertEquals(n, SafeTensors.read(file).headerBytes());
        }
    }

    @Test
    void tensorsAreStoredInTheGivenOrderAndContiguously() throws Exception {
        Path file = dir.resolve("order.safetensors");
        List<TensorEntry> tensors = sampleTensors();
        SafeTensors.write(file, Map.of(), tensors);
        Map<?, ?> header = (Map<?, ?>) Json.parse(headerText(file));
        List<Object> keys = new ArrayList<>(header.keySet());
        assertEquals(SafeTensors.METADATA, keys.getFirst());
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            TensorEntry t = tensors.get(i);
            assertEquals(t.name(), keys.get(i + 1));
            Map<?, ?> info = (Map<?, ?>) header.get(t.name());
            assertEquals(t.dtype().name(), info.get("dtype"));
            assertEquals(List.of(offset, offset + t.data().length), info.get("data_offsets"));
            offset += t.data().length;
        }
    }

    @Test
    void metadataRoundTripsAndGainsWhittleKeys() throws Exception {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("whittle.arch", "conv(6,5,pad=2) relu maxpool(2) flatten linear(10)");
        metadata.put("note", "quotes \" backslash \\ newline \n unicode ✓ \uD83D\uDE00");
        metadata.put("empty", "");
        Path file = dir.resolve("meta.safetensors");
        SafeTensors.write(file, metadata, sampleTensors());
        Map<String, String> read = SafeTensors.read(file).metadata();
        for (Map.Entry<String, String> e : metadata.entrySet()) assertEquals(e.getValue(), read.get(e.getKey()));
        assertEquals("1", read.get(SafeTensors.FORMAT_KEY));
        assertTrue(read.get(SafeTensors.CRC32C_KEY).matches("[0-9a-f]{8}"), read.toString());
        assertTrue(read.get(SafeTensors.SHA256_KEY).matches("[0-9a-f]{64}"), read.toString());
        assertEquals(metadata.size() + 3, read.size());
    }

    @Test
    void checksumsDescribeTheDataSection() throws Exception {
        Path file = dir.resolve("sums.safetensors");
        SafeTensors.write(file, Map.of(), sampleTensors());
        SafeTensorsFile read = SafeTensors.read(file);
        byte[] bytes = Files.readAllBytes(file);
        int dataStart = (int) (8 + read.headerBytes());
        CRC32C crc = new CRC32C();
        crc.update(bytes, dataStart, bytes.length - dataStart);
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(bytes, dataStart, bytes.length));
        assertEquals(String.format("%08x", crc.getValue()), read.metadata().get(SafeTensors.CRC32C_KEY));
        assertEquals(HexFormat.of().formatHex(sha), read.metadata().get(SafeTensors.SHA256_KEY));
    }

    @Test
    void staleChecksumsFromTheCallerAreReplaced() throws Exception {
        Path file = dir.resolve("stale.safetensors");
        Map<String, String> stale = Map.of(SafeTensors.CRC32C_KEY, "00000000", SafeTensors.SHA256_KEY, "0".repeat(64));
        SafeTensors.write(file, stale, sampleTensors());
        SafeTensorsFile read = SafeTensors.read(file); // would fail the checksum check if kept
        assertNotEquals("00000000", read.metadata().get(SafeTensors.CRC32C_KEY));
    }

    @Test
    void writeReplacesAnExistingFile() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of(), sampleTensors());
        SafeTensors.write(file, Map.of("v", "2"), List.of(TensorEntry.ofFloats("only", new float[] {3f}, 1)));
        SafeTensorsFile read = SafeTensors.read(file);
        assertEquals(List.of("only"), read.tensors().stream().map(TensorEntry::name).toList());
        assertEquals("2", read.metadata().get("v"));
        assertEquals(List.of(file), listDir());
    }

    @Test
    void readsAFileWithoutWhittleMetadataAsPythonWritesIt() throws Exception {
        Path file = dir.resolve("python.safetensors");
        byte[] data = floats(1f, 2f, 3f, 4f, 5f);
        // Python's writer sorts by name and often stores only {"format": "pt"} as metadata.
        craft(file, "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}", data);
        SafeTensorsFile read = SafeTensors.read(file);
        assertEquals(Map.of("format", "pt"), read.metadata());
        assertArrayEquals(new float[] {1, 2, 3, 4}, read.require("a").toFloats());
        assertArrayEquals(new float[] {5}, read.require("b").toFloats());

        Path bare = dir.resolve("bare.safetensors");
        craft(bare, "{\"x\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", ints(42));
        assertEquals(42, SafeTensors.read(bare).require("x").toInts()[0]);

        Path nullMetadata = dir.resolve("null-metadata.safetensors");
        craft(nullMetadata, "{\"__metadata__\":null,\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[] {5});
        assertEquals(Map.of(), SafeTensors.read(nullMetadata).metadata());
    }

    @Test
    void tensorsComeBackInDataOffsetOrderWhateverTheHeaderOrder() throws Exception {
        Path file = dir.resolve("reordered.safetensors");
        craft(file, "{\"second\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"first\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", ints(1, 2));
        SafeTensorsFile read = SafeTensors.read(file);
        assertEquals(List.of("first", "second"), read.tensors().stream().map(TensorEntry::name).toList());
        assertEquals(2, read.require("second").toInts()[0]);
    }

    @Test
    void getReturnsNullAndRequireNamesTheFileForAMissingTensor() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of(), sampleTensors());
        SafeTensorsFile read = SafeTensors.read(file);
        assertNull(read.get("fc2.weight"));
        assertNotNull(read.get("fc1.weight"));
        BadInputException e = assertThrows(BadInputException.class, () -> read.require("fc2.weight"));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("'fc2.weight'") && e.getMessage().contains("fc1.weight"), e.getMessage());
    }

    // ---------------------------------------------------------------- writing safely

    @Test
    void duplicateTensorNamesAreAProgrammingError() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of(), sampleTensors());
        byte[] before = Files.readAllBytes(file);
        List<TensorEntry> dup = List.of(TensorEntry.ofFloats("w", new float[] {1}, 1), TensorEntry.ofFloats("w", new float[] {2}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, Map.of(), dup));
        assertTrue(e.getMessage().contains("duplicate tensor name 'w'"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file), listDir());
    }

    @Test
    void aTensorCannotTakeTheMetadataKey() {
        List<TensorEntry> tensors = List.of(TensorEntry.ofFloats("__metadata__", new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("m.safetensors"), Map.of(), tensors));
    }

    @Test
    void aWriteThatFailsBeforeTheRenameLeavesThePreviousFileIntact() throws Exception {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, Map.of("v", "1"), sampleTensors());
        byte[] before = Files.readAllBytes(file);
        Path[] seen = new Path[1];
        IOException e = assertThrows(IOException.class, () -> SafeTensorsWriter.write(file, Map.of("v", "2"),
                List.of(TensorEntry.ofFloats("new", new float[] {9}, 1)), temporary -> {
                    seen[0] = temporary;
                    // the new file is complete beside the old one at this point
                    assertTrue(Files.size(temporary) > 8);
                    assertEquals(dir, temporary.getParent());
                    assertTrue(temporary.getFileName().toString().startsWith(".model.safetensors.tmp-"));
                    throw new IOException("simulated crash before the rename");
                }));
        assertEquals("simulated crash before the rename", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertTrue(Files.notExists(seen[0]), "temporary file removed");
        assertEquals(List.of(file), listDir());
        assertEquals("1", SafeTensors.read(file).metadata().get("v"));
    }

    @Test
    void aFailedRenameRemovesTheTemporaryFile() throws Exception {
        Path target = dir.resolve("occupied");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> SafeTensors.write(target, Map.of(), sampleTensors()));
        assertEquals(List.of(target), listDir());
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void writingUnderAFileFailsWithoutLeavingAnything() throws Exception {
        Path notADirectory = dir.resolve("plain.txt");
        Files.writeString(notADirectory, "x");
        assertThrows(IOException.class,
                () -> SafeTensors.write(notADirectory.resolve("model.safetensors"), Map.of(), sampleTensors()));
        assertEquals(List.of(notADirectory), listDir());
        assertEquals("x", Files.readString(notADirectory));
    }

    // ---------------------------------------------------------------- entries

    @Test
    void tensorEntriesCheckTheirOwnConsistency() {
        assertThrows(IllegalArgumentException.class, () -> TensorEntry.ofFloats("w", new float[3], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w", DType.F32, new int[] {-1}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("", DType.U8, new int[] {1}, new byte[1]));
        assertThrows(IllegalArgumentException.class,
                () -> new TensorEntry("w", DType.F64, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> TensorEntry.ofBytes("w", DType.F32, new byte[4], 1));
        assertThrows(IllegalStateException.class, () -> TensorEntry.ofBytes("w", DType.I8, new byte[4], 4).toFloats());
        assertThrows(IllegalStateException.class, () -> TensorEntry.ofFloats("w", new float[1], 1).toInts());
        int[] shape = {2};
        TensorEntry t = TensorEntry.ofInts("w", new int[] {1, 2}, shape);
        shape[0] = 5;
        assertArrayEquals(new int[] {2}, t.shape(), "shape copied in");
        t.shape()[0] = 7;
        assertArrayEquals(new int[] {2}, t.shape(), "shape copied out");
    }

    // ---------------------------------------------------------------- helpers

    /** Reads the file; true if it was rejected as bad input, false if it read; fails on anything else. */
    static boolean readsOrRejects(Path file, String what) {
        try {
            SafeTensors.read(file);
            return false;
        } catch (BadInputException expected) {
            assertTrue(expected.getMessage().startsWith(file + ": "), what + ": " + expected.getMessage());
            assertFalse(expected.getMessage().contains("\n"), what + ": one line");
            return true;
        } catch (Exception | Error other) {
            fail(what + ": " + other, other);
            return false;
        }
    }

    static BadInputException expectBad(Path file, String problem) {
        BadInputException e = assertThrows(BadInputException.class, () -> SafeTensors.read(file));
        String message = e.getMessage();
        assertTrue(message.startsWith(file + ": "), "names the file: " + message);
        assertTrue(message.contains(problem), "expected \"" + problem + "\" in: " + message);
        assertFalse(message.contains("\n"), "one line: " + message);
        return e;
    }

    /** Writes a file by hand: length field, the header padded to 8 bytes, then {@code data}. */
    static void craft(Path file, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        Files.write(file, concat(lengthField(padded.length), padded, data));
    }

    static byte[] lengthField(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) length += p.length;
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static String headerText(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(bytes, 8, n, StandardCharsets.UTF_8);
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }
}
