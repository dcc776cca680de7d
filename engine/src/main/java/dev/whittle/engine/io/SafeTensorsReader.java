package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The reading half of {@link SafeTensors}. Nothing from the file is trusted before it is
 * checked: the header length against the file size and a cap, every tensor's byte count against
 * its shape, and the offsets against the data section, before any tensor array is allocated.
 */
final class SafeTensorsReader {

    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final Pattern CRC32C_HEX = Pattern.compile("[0-9a-fA-F]{8}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    /** A tensor's header entry once its fields have been checked one by one. */
    private record Slot(String name, DType dtype, int[] shape, long begin, long end) {
        String offsets() {
            return "[" + begin + ", " + end + "]";
        }
    }

    private final Path path;

    private SafeTensorsReader(Path path) {
        this.path = path;
    }

    static SafeTensorsFile read(Path file) throws IOException, BadInputException {
        return new SafeTensorsReader(file).read();
    }

    private BadInputException bad(String problem) {
        return new BadInputException(path + ": " + problem);
    }

    private SafeTensorsFile read() throws IOException, BadInputException {
        if (Files.isDirectory(path)) throw bad("is a directory, not a safetensors file");
        // a named pipe or a device would block or never end: only regular files are read
        if (Files.exists(path) && !Files.isRegularFile(path)) throw bad("is not a regular file");
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw bad("no such file");
        }
        try (channel) {
            long fileBytes = channel.size();
            if (fileBytes < Long.BYTES) {
                throw bad("file is " + fileBytes + " bytes, too short for the 8-byte header length");
            }
            byte[] lengthField = new byte[Long.BYTES];
            readFully(channel, lengthField, 0);
            long headerBytes = ByteBuffer.wrap(lengthField).order(ByteOrder.LITTLE_ENDIAN).getLong();
            checkHeaderLength(headerBytes, fileBytes);

            byte[] headerRaw = new byte[(int) headerBytes];
            readFully(channel, headerRaw, Long.BYTES);
            Map<?, ?> header = parseHeader(headerRaw);

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Slot> slots = new ArrayList<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String key = (String) e.getKey();
                if (key.equals(SafeTensors.METADATA)) {
                    metadata = metadata(e.getValue());
                } else {
                    slots.add(slot(key, e.getValue()));
                }
            }
            long dataStart = Long.BYTES + headerBytes;
            slots.sort(Comparator.comparingLong(Slot::begin).thenComparingLong(Slot::end));
            checkCoverage(slots, fileBytes - dataStart);
            checkFormat(metadata);

            // Offsets are now known to tile the data section, so reading the tensors in offset
            // order reads the data section start to end, which is what the checksums cover.
            DataSectionDigest digest = new DataSectionDigest();
            List<TensorEntry> tensors = new ArrayList<>(slots.size());
            for (Slot s : slots) {
                byte[] data = new byte[(int) (s.end - s.begin)];
                readFully(channel, data, dataStart + s.begin);
                digest.update(data);
                tensors.add(new TensorEntry(s.name, s.dtype, s.shape, data));
            }
            checkChecksums(metadata, digest.finish());
            return new SafeTensorsFile(path, metadata, tensors, headerBytes, fileBytes);
        }
    }

    private void checkHeaderLength(long headerBytes, long fileBytes) throws BadInputException {
        if (headerBytes == 0) throw bad("header length is 0");
        // The field is unsigned: a negative long stands for a length of 2^63 bytes or more.
        if (headerBytes < 0 || headerBytes > fileBytes - Long.BYTES) {
            throw bad("header length " + Long.toUnsignedString(headerBytes) + " is more than the "
                    + (fileBytes - Long.BYTES) + " bytes that follow it in the file");
        }
        if (headerBytes > SafeTensors.MAX_HEADER_BYTES) {
            throw bad("header length " + headerBytes + " is over the " + SafeTensors.MAX_HEADER_BYTES
                    + "-byte (100 MiB) limit");
        }
    }

    private Map<?, ?> parseHeader(byte[] raw) throws BadInputException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(raw);
        CharBuffer out = CharBuffer.allocate(raw.length); // UTF-8 never gives more chars than bytes
        CoderResult result = utf8.decode(in, out, true);
        if (!result.isError()) result = utf8.flush(out);
        if (result.isError()) throw bad("header is not valid UTF-8 (bad byte at header offset " + in.position() + ")");
        Object root;
        try {
            root = Json.parse(out.flip().toString());
        } catch (Json.SyntaxException e) {
            throw bad("header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> map)) throw bad("header is not a JSON object but " + brief(root));
        return map;
    }

    private Map<String, String> metadata(Object value) throws BadInputException {
        if (value == null) return new LinkedHashMap<>(); // other writers may spell "no metadata" as null
        if (!(value instanceof Map<?, ?> map)) {
            throw bad(SafeTensors.METADATA + " is not a JSON object but " + brief(value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw bad(SafeTensors.METADATA + " value of " + Json.quote((String) e.getKey())
                        + " is not a string: " + brief(e.getValue()));
            }
            metadata.put((String) e.getKey(), s);
        }
        return metadata;
    }

    private Slot slot(String name, Object value) throws BadInputException {
        String tensor = "tensor " + Json.quote(name);
        if (!(value instanceof Map<?, ?> fields)) throw bad(tensor + " is not a JSON object but " + brief(value));
        for (Object field : fields.keySet()) {
            if (!TENSOR_FIELDS.contains(field)) throw bad(tensor + " has an unknown field " + Json.quote((String) field));
        }
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!fields.containsKey(field)) throw bad(tensor + " has no " + field);
        }

        if (!(fields.get("dtype") instanceof String dtypeName)) {
            throw bad(tensor + " dtype is not a string: " + brief(fields.get("dtype")));
        }
        DType dtype = DType.byName(dtypeName);
        if (dtype == null) {
            throw bad(tensor + " has unknown dtype " + Json.quote(dtypeName)
                    + " (whittle reads " + Arrays.toString(DType.values()) + ")");
        }

        long[] dims = integers(fields.get("shape"));
        if (dims == null) throw bad(tensor + " shape is not a list of integers: " + brief(fields.get("shape")));
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) throw bad(tensor + " has a negative dimension in shape " + Arrays.toString(dims));
            if (dims[i] > Integer.MAX_VALUE) {
                throw bad(tensor + " has dimension " + dims[i] + " in shape " + Arrays.toString(dims)
                        + ", more than whittle can index");
            }
            shape[i] = (int) dims[i];
        }
        long elements = TensorEntry.elementCount(shape);
        long bytes = elements < 0 || elements > Long.MAX_VALUE / dtype.bytes() ? -1 : elements * dtype.bytes();
        if (bytes < 0) throw bad(tensor + " shape " + Arrays.toString(shape) + " has more elements than a long can count");

        long[] offsets = integers(fields.get("data_offsets"));
        if (offsets == null || offsets.length != 2) {
            throw bad(tensor + " data_offsets is not a pair of integers: " + brief(fields.get("data_offsets")));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) throw bad(tensor + " has bad data_offsets " + Arrays.toString(offsets));
        if (end - begin != bytes) {
            throw bad(tensor + " " + dtype + " shape " + Arrays.toString(shape) + " needs " + bytes
                    + " bytes but data_offsets " + Arrays.toString(offsets) + " hold " + (end - begin));
        }
        if (bytes > TensorEntry.MAX_BYTES) {
            throw bad(tensor + " is " + bytes + " bytes, more than one Java array can hold");
        }
        return new Slot(name, dtype, shape, begin, end);
    }

    /** The values of a JSON array of integers, or null when it is anything else. */
    private static long[] integers(Object value) {
        if (!(value instanceof List<?> list)) return null;
        long[] values = new long[list.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(list.get(i) instanceof Long l)) return null;
            values[i] = l;
        }
        return values;
    }

    /**
     * The Hugging Face format requires the tensors to tile the data section: sorted by offset,
     * each begins where the previous one ended, and the last ends at the end of the file. Bytes
     * that belong to no tensor could hide anything; overlapping tensors alias each other.
     */
    private void checkCoverage(List<Slot> sorted, long dataBytes) throws BadInputException {
        long covered = 0;
        Slot previous = null;
        for (Slot s : sorted) {
            if (s.end > dataBytes) {
                throw bad("tensor " + Json.quote(s.name) + " data_offsets " + s.offsets()
                        + " run past the end of the " + dataBytes + "-byte data section");
            }
            if (s.begin > covered) {
                throw bad("data section bytes [" + covered + ", " + s.begin + ") belong to no tensor (a hole before tensor "
                        + Json.quote(s.name) + ")");
            }
            if (s.begin < covered) {
                throw bad("tensor " + Json.quote(s.name) + " data_offsets " + s.offsets() + " overlap tensor "
                        + Json.quote(previous.name) + " " + previous.offsets());
            }
            covered = s.end;
            previous = s;
        }
        if (covered != dataBytes) {
            throw bad("data section bytes [" + covered + ", " + dataBytes + ") belong to no tensor (a hole at the end)");
        }
    }

    private void checkFormat(Map<String, String> metadata) throws BadInputException {
        String format = metadata.get(SafeTensors.FORMAT_KEY);
        if (format != null && !format.equals(SafeTensors.FORMAT_VERSION)) {
            throw bad(SafeTensors.FORMAT_KEY + " is " + Json.quote(format) + " but this whittle reads format "
                    + SafeTensors.FORMAT_VERSION);
        }
    }

    private void checkChecksums(Map<String, String> metadata, DataSectionDigest.Checksums actual) throws BadInputException {
        checkChecksum(metadata.get(SafeTensors.CRC32C_KEY), actual.crc32c(), SafeTensors.CRC32C_KEY, CRC32C_HEX, "CRC-32C");
        checkChecksum(metadata.get(SafeTensors.SHA256_KEY), actual.sha256(), SafeTensors.SHA256_KEY, SHA256_HEX, "SHA-256");
    }

    private void checkChecksum(String stated, String actual, String key, Pattern form, String algorithm)
            throws BadInputException {
        if (stated == null) return; // not a whittle file, or written before checksums: nothing to hold it to
        if (!form.matcher(stated).matches()) {
            throw bad(key + " " + Json.quote(stated) + " is not a " + algorithm + " in hex");
        }
        if (!stated.equalsIgnoreCase(actual)) {
            throw bad("checksum mismatch: data section " + algorithm + " is " + actual + ", header says " + stated);
        }
    }

    /** Reads {@code into.length} bytes at {@code position}, in chunks (see SafeTensorsWriter.IO_CHUNK). */
    private void readFully(FileChannel channel, byte[] into, long position) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(into);
        while (buffer.position() < into.length) {
            buffer.limit(Math.min(into.length, buffer.position() + SafeTensorsWriter.IO_CHUNK));
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + buffer.position()) < 0) {
                    // the size was checked on opening, so the file must have shrunk under us
                    throw new EOFException(path + ": file ended early while reading at byte " + (position + buffer.position()));
                }
            }
        }
    }

    /** A JSON value for a message, cut short so that one line stays one line. */
    private static String brief(Object value) {
        String json = Json.write(value);
        return json.length() <= 60 ? json : json.substring(0, 57) + "...";
    }
}
