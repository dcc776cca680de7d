package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors model file (the Hugging Face layout), so that Python's
 * {@code safetensors} and other tools can open what whittle saves:
 *
 * <pre>
 *   +----------------+----------------------------------+------------------------------+
 *   | N: u64 LE      | N bytes: UTF-8 JSON header,      | data section: each tensor's  |
 *   | (header length)| space-padded to an 8-byte bound  | little-endian bytes, packed  |
 *   +----------------+----------------------------------+------------------------------+
 *   header: {"__metadata__": {"k": "v", ...},
 *            "fc1.weight": {"dtype": "F32", "shape": [300, 784], "data_offsets": [0, 940800]}, ...}
 * </pre>
 *
 * <p>Offsets count from the start of the data section. whittle adds to {@code __metadata__}
 * the file format version, a CRC-32C and a SHA-256 of the data section; a reader checks them when
 * they are there and reads files without them (those Python writes) all the same.
 *
 * <p>Writing is atomic: the bytes go to a temporary file beside the target, are forced to disk,
 * and the temporary file is renamed over the target, so a crash or an error at any point leaves
 * either the old file or the new one, never a torn one.
 */
public final class SafeTensors {

    /** Metadata key of whittle's file format version. */
    public static final String FORMAT_KEY = "whittle.format";
    /** The format version this code writes and reads. */
    public static final String FORMAT_VERSION = "1";
    /** Metadata key of the data section's CRC-32C (8 lowercase hex digits). */
    public static final String CRC32C_KEY = "whittle.crc32c";
    /** Metadata key of the data section's SHA-256 (64 lowercase hex digits). */
    public static final String SHA256_KEY = "whittle.sha256";
    /** The largest header a reader accepts, so a lying length field cannot make it allocate. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** The reserved header key holding the string-to-string metadata. */
    static final String METADATA = "__metadata__";

    private SafeTensors() {}

    /**
     * Writes {@code tensors}, in the given order and packed one after another, with
     * {@code metadata} (may be null) plus whittle's format version and checksums, replacing
     * {@code file} atomically. Tensor names must be unique and must not be {@code __metadata__}.
     */
    public static void write(Path file, Map<String, String> metadata, List<TensorEntry> tensors) throws IOException {
        SafeTensorsWriter.write(file, metadata, tensors, temporary -> {});
    }

    /**
     * Reads and checks a whole file: header length bounds, the header's JSON, every tensor's
     * dtype, shape and offsets (which must cover the data section exactly), and whittle's
     * checksums when present. Any violation is a {@link BadInputException} naming the file.
     */
    public static SafeTensorsFile read(Path file) throws IOException, BadInputException {
        return SafeTensorsReader.read(file);
    }
}
