package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whittle.engine.BadInputException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.whittle.engine.io.SafeTensorsTest.concat;
import static dev.whittle.engine.io.SafeTensorsTest.craft;
import static dev.whittle.engine.io.SafeTensorsTest.expectBad;
import static dev.whittle.engine.io.SafeTensorsTest.floats;
import static dev.whittle.engine.io.SafeTensorsTest.lengthField;
import static dev.whittle.engine.io.SafeTensorsTest.readsOrRejects;
import static dev.whittle.engine.io.SafeTensorsTest.sampleTensors;

/** Every way a safetensors file can lie or be damaged, each rejected as bad input naming the file. */
class SafeTensorsRejectionTest {

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- bad input

    @Test
    void rejectsAMissingFile() {
        expectBad(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void rejectsADirectory() {
        expectBad(dir, "is a directory");
    }

    @Test
    void rejectsAFileShorterThanTheLengthField() throws Exception {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 0, 0, 0, 0});
        expectBad(file, "file is 5 bytes, too short for the 8-byte header length");
    }

    @Test
    void rejectsAZeroHeaderLength() throws Exception {
        Path file = dir.resolve("zero.safetensors");
        Files.write(file, concat(lengthField(0), "{}".getBytes(StandardCharsets.UTF_8)));
        expectBad(file, "header length is 0");
    }

    @Test
    void rejectsAHeaderLengthBeyondTheFile() throws Exception {
        Path file = dir.resolve("lying.safetensors");
        Files.write(file, concat(lengthField(1000), "{}      ".getBytes(StandardCharsets.UTF_8)));
        expectBad(file, "header length 1000 is more than the 8 bytes that follow it");
    }

    @Test
    void rejectsAHeaderLengthWithTheTopBitSet() throws Exception {
        Path file = dir.resolve("huge.safetensors");
        Files.write(file, concat(lengthField(-1), "{}      ".getBytes(StandardCharsets.UTF_8)));
        expectBad(file, "header length 18446744073709551615 is more than the 8 bytes");
    }

    @Test
    void rejectsAHeaderOverOneHundredMebibytes() throws Exception {
        Path file = dir.resolve("big-header.safetensors");
        long n = SafeTensors.MAX_HEADER_BYTES + 8;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(lengthField(n)));
            // A sparse file: the length is honest about the file size but over the cap.
            channel.write(ByteBuffer.wrap(new byte[] {' '}), 8 + n);
        }
        expectBad(file, "header length 104857608 is over the 104857600-byte (100 MiB) limit");
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() throws Exception {
        Path file = dir.resolve("latin1.safetensors");
        byte[] header = "{\"__metadata__\":{\"k\":\"caf?\"}}  ".getBytes(StandardCharsets.US_ASCII);
        int at = new String(header, StandardCharsets.US_ASCII).indexOf('?');
        header[at] = (byte) 0xe9; // 'é' in Latin-1, a truncated sequence in UTF-8
        Files.write(file, concat(lengthField(header.length), header));
        expectBad(file, "header is not valid UTF-8 (bad byte at header offset " + at + ")");
    }

    @Test
    void rejectsAHeaderThatIsNotJson() throws Exception {
        Path file = dir.resolve("broken.safetensors");
        craft(file, "{\"a\":{\"dtype\":\"F32\",}}", new byte[0]);
        expectBad(file, "header is not valid JSON: expected a string key at offset 20");
    }

    @Test
    void rejectsAHeaderThatIsNotAnObject() throws Exception {
        Path file = dir.resolve("array.safetensors");
        craft(file, "[1,2,3]", new byte[0]);
        expectBad(file, "header is not a JSON object but [1,2,3]");
    }

    @Test
    void rejectsDuplicateTensorNamesInTheHeader() throws Exception {
        Path file = dir.resolve("dup.safetensors");
        String entry = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        craft(file, "{\"a\":" + entry + ",\"a\":" + entry + "}", new byte[1]);
        expectBad(file, "duplicate key \"a\"");
    }

    @Test
    void rejectsATensorWithoutDtype() throws Exception {
        Path file = dir.resolve("nodtype.safetensors");
        craft(file, "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        expectBad(file, "tensor \"w\" has no dtype");
    }

    @Test
    void rejectsATensorWithoutShape() throws Exception {
        Path file = dir.resolve("noshape.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", floats(1));
        expectBad(file, "tensor \"w\" has no shape");
    }

    @Test
    void rejectsATensorWithoutDataOffsets() throws Exception {
        Path file = dir.resolve("nooffsets.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", floats(1));
        expectBad(file, "tensor \"w\" has no data_offsets");
    }

    @Test
    void rejectsATensorEntryThatIsNotAnObject() throws Exception {
        Path file = dir.resolve("scalar-entry.safetensors");
        craft(file, "{\"w\":17}", new byte[0]);
        expectBad(file, "tensor \"w\" is not a JSON object but 17");
    }

    @Test
    void rejectsAnUnknownTensorField() throws Exception {
        Path file = dir.resolve("extra.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"stride\":[1]}}", floats(1));
        expectBad(file, "tensor \"w\" has an unknown field \"stride\"");
    }

    @Test
    void rejectsAnUnknownDtypeNamingIt() throws Exception {
        Path file = dir.resolve("fp8.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[4]);
        expectBad(file, "tensor \"w\" has unknown dtype \"F8_E4M3\" (whittle reads [F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL])");
    }

    @Test
    void rejectsADtypeThatIsNotAString() throws Exception {
        Path file = dir.resolve("dtype-number.safetensors");
        craft(file, "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        expectBad(file, "tensor \"w\" dtype is not a string: 4");
    }

    @Test
    void rejectsANegativeDimension() throws Exception {
        Path file = dir.resolve("negative.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", new byte[16]);
        expectBad(file, "tensor \"w\" has a negative dimension in shape [2, -2]");
    }

    @Test
    void rejectsAShapeThatIsNotAListOfIntegers() throws Exception {
        Path file = dir.resolve("float-shape.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", floats(1));
        expectBad(file, "tensor \"w\" shape is not a list of integers: [1.5]");
    }

    @Test
    void rejectsADimensionBeyondIntRange() throws Exception {
        Path file = dir.resolve("wide.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"U8\",\"shape\":[3000000000],\"data_offsets\":[0,1]}}", new byte[1]);
        expectBad(file, "tensor \"w\" has dimension 3000000000 in shape [3000000000], more than whittle can index");
    }

    @Test
    void rejectsAnElementCountThatOverflows() throws Exception {
        Path file = dir.resolve("overflow.safetensors");
        int big = Integer.MAX_VALUE;
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + big + "," + big + "," + big + "],\"data_offsets\":[0,4]}}", floats(1));
        expectBad(file, "tensor \"w\" shape [2147483647, 2147483647, 2147483647] has more elements than a long can count");
    }

    @Test
    void rejectsAByteCountThatOverflowsThoughTheElementCountFits() throws Exception {
        Path file = dir.resolve("overflow-bytes.safetensors");
        // (2^31 - 1)^2 * 2 elements fit in a long; times 8 bytes they do not.
        craft(file, "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2],\"data_offsets\":[0,8]}}", new byte[8]);
        expectBad(file, "has more elements than a long can count");
    }

    @Test
    void rejectsAShapeThatDisagreesWithTheByteCount() throws Exception {
        Path file = dir.resolve("mismatch.safetensors");
        craft(file, "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,40]}}", new byte[40]);
        expectBad(file, "tensor \"fc1.weight\" F32 shape [3, 4] needs 48 bytes but data_offsets [0, 40] hold 40");
    }

    @Test
    void rejectsDataOffsetsThatAreNotAPair() throws Exception {
        Path file = dir.resolve("triple.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", floats(1));
        expectBad(file, "tensor \"w\" data_offsets is not a pair of integers: [0,4,8]");
    }

    @Test
    void rejectsReversedDataOffsets() throws Exception {
        Path file = dir.resolve("reversed.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", floats(1));
        expectBad(file, "tensor \"w\" has bad data_offsets [4, 0]");
    }

    @Test
    void rejectsOffsetsBeyondTheDataSection() throws Exception {
        Path file = dir.resolve("past-end.safetensors");
        craft(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", floats(1));
        expectBad(file, "tensor \"w\" data_offsets [0, 8] run past the end of the 4-byte data section");
    }

    @Test
    void rejectsOverlappingTensors() throws Exception {
        Path file = dir.resolve("overlap.safetensors");
        craft(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", floats(1, 2, 3));
        expectBad(file, "tensor \"b\" data_offsets [4, 12] overlap tensor \"a\" [0, 8]");
    }

    @Test
    void rejectsAHoleBetweenTensors() throws Exception {
        Path file = dir.resolve("hole.safetensors");
        craft(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", floats(1, 2, 3));
        expectBad(file, "data section bytes [4, 8) belong to no tensor (a hole before tensor \"b\")");
    }

    @Test
    void rejectsBytesAfterTheLastTensor() throws Exception {
        Path file = dir.resolve("trailing.safetensors");
        craft(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1, 2));
        expectBad(file, "data section bytes [4, 8) belong to no tensor (a hole at the end)");
    }

    @Test
    void rejectsMetadataThatIsNotAnObject() throws Exception {
        Path file = dir.resolve("meta-list.safetensors");
        craft(file, "{\"__metadata__\":[\"a\"]}", new byte[0]);
        expectBad(file, "__metadata__ is not a JSON object but [\"a\"]");
    }

    @Test
    void rejectsMetadataValuesThatAreNotStrings() throws Exception {
        Path file = dir.resolve("meta-number.safetensors");
        craft(file, "{\"__metadata__\":{\"epochs\":10}}", new byte[0]);
        expectBad(file, "__metadata__ value of \"epochs\" is not a string: 10");
    }

    @Test
    void rejectsAFlippedDataByteByCrc() throws Exception {
        Path file = dir.resolve("flipped.safetensors");
        SafeTensors.write(file, Map.of(), sampleTensors());
        String stated = SafeTensors.read(file).metadata().get(SafeTensors.CRC32C_KEY);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 3] ^= 0x10;
        Files.write(file, bytes);
        BadInputException e = expectBad(file, "checksum mismatch: data section CRC-32C is ");
        assertTrue(e.getMessage().endsWith(", header says " + stated), e.getMessage());
    }

    @Test
    void rejectsDataThatDisagreesWithSha256() throws Exception {
        Path file = dir.resolve("sha.safetensors");
        byte[] data = floats(1, 2);
        String wrong = "ab".repeat(32);
        craft(file, "{\"__metadata__\":{\"whittle.sha256\":\"" + wrong + "\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data);
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        expectBad(file, "checksum mismatch: data section SHA-256 is " + actual + ", header says " + wrong);
    }

    @Test
    void rejectsAChecksumThatIsNotHex() throws Exception {
        Path file = dir.resolve("crc-text.safetensors");
        craft(file, "{\"__metadata__\":{\"whittle.crc32c\":\"deadbeefcafe\"}}", new byte[0]);
        expectBad(file, "whittle.crc32c \"deadbeefcafe\" is not a CRC-32C in hex");
    }

    @Test
    void rejectsANewerWhittleFormat() throws Exception {
        Path file = dir.resolve("future.safetensors");
        craft(file, "{\"__metadata__\":{\"whittle.format\":\"2\"}}", new byte[0]);
        expectBad(file, "whittle.format is \"2\" but this whittle reads format 1");
    }

    /** Whatever single byte is damaged or wherever the file is cut, reading fails cleanly or succeeds. */
    @Test
    void anyCorruptionOrTruncationIsBadInputNeverACrash() throws Exception {
        Path file = dir.resolve("victim.safetensors");
        SafeTensors.write(file, Map.of("whittle.arch", "mlp(4,3)"), List.of(
                TensorEntry.ofFloats("w", new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                TensorEntry.ofBytes("q", DType.I8, new byte[] {-1, 2}, 2)));
        byte[] good = Files.readAllBytes(file);
        int dataStart = (int) (8 + SafeTensors.read(file).headerBytes());
        Path damaged = dir.resolve("damaged.safetensors");
        for (int i = 0; i < good.length; i++) {
            for (int mask : new int[] {0x01, 0x80, 0xff}) {
                byte[] bytes = good.clone();
                bytes[i] ^= (byte) mask;
                Files.write(damaged, bytes);
                boolean detected = readsOrRejects(damaged, "flip " + mask + " at " + i);
                if (i >= dataStart) assertTrue(detected, "a data byte flip at " + i + " must fail the checksum");
            }
        }
        for (int length = 0; length < good.length; length++) {
            Files.write(damaged, Arrays.copyOf(good, length));
            assertTrue(readsOrRejects(damaged, "cut at " + length), "a file cut at " + length + " must be rejected");
        }
    }

}
