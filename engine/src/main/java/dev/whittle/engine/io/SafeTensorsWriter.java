package dev.whittle.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The writing half of {@link SafeTensors}: header layout, checksums and the atomic replace. */
final class SafeTensorsWriter {

    /**
     * Bytes handed to the channel per call. A heap buffer passed to a FileChannel is copied
     * through a temporary direct buffer of the same size; chunking keeps that copy small
     * instead of doubling the memory of a large tensor.
     */
    static final int IO_CHUNK = 1 << 20;

    /** Runs once the temporary file is complete and on disk, just before it replaces the target. */
    @FunctionalInterface
    interface BeforeCommit {
        void run(Path temporary) throws IOException;
    }

    private SafeTensorsWriter() {}

    static void write(Path file, Map<String, String> metadata, List<TensorEntry> tensors, BeforeCommit beforeCommit)
            throws IOException {
        Objects.requireNonNull(file, "file");
        checkNames(tensors);
        Map<String, String> meta = copyMetadata(metadata);

        DataSectionDigest digest = new DataSectionDigest();
        for (TensorEntry t : tensors) digest.update(t.data());
        DataSectionDigest.Checksums sums = digest.finish();
        meta.putIfAbsent(SafeTensors.FORMAT_KEY, SafeTensors.FORMAT_VERSION);
        // Always recomputed: metadata copied from a file that was read must not carry stale sums.
        meta.put(SafeTensors.CRC32C_KEY, sums.crc32c());
        meta.put(SafeTensors.SHA256_KEY, sums.sha256());
        byte[] header = header(meta, tensors);

        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = TemporaryFiles.createBeside(directory, target.getFileName().toString());
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                ByteBuffer prefix = ByteBuffer.allocate(Long.BYTES + header.length).order(ByteOrder.LITTLE_ENDIAN);
                prefix.putLong(header.length).put(header).flip();
                writeFully(channel, prefix);
                for (TensorEntry t : tensors) writeFully(channel, ByteBuffer.wrap(t.data()));
                channel.force(true);
            }
            beforeCommit.run(temporary);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
        syncDirectory(directory);
    }

    private static void checkNames(List<TensorEntry> tensors) {
        Set<String> seen = new HashSet<>();
        for (TensorEntry t : tensors) {
            Objects.requireNonNull(t, "tensor entry");
            if (t.name().equals(SafeTensors.METADATA)) {
                throw new IllegalArgumentException("a tensor cannot be named " + SafeTensors.METADATA);
            }
            if (!seen.add(t.name())) throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
        }
    }

    private static Map<String, String> copyMetadata(Map<String, String> metadata) {
        Map<String, String> copy = new LinkedHashMap<>();
        if (metadata == null) return copy;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("metadata keys and values must not be null: " + e.getKey() + "=" + e.getValue());
            }
            copy.put(e.getKey(), e.getValue());
        }
        return copy;
    }

    /** The JSON header, space-padded so the data section starts on an 8-byte boundary. */
    private static byte[] header(Map<String, String> metadata, List<TensorEntry> tensors) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put(SafeTensors.METADATA, metadata);
        long offset = 0;
        for (TensorEntry t : tensors) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().name());
            info.put("shape", t.shape());
            info.put("data_offsets", new long[] {offset, offset + t.data().length});
            header.put(t.name(), info);
            offset += t.data().length;
        }
        // Json escapes lone surrogates, so this encoding is exact (no '?' replacements).
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7; // 8 + padded is then a multiple of 8 too
        byte[] bytes = new byte[padded];
        System.arraycopy(json, 0, bytes, 0, json.length);
        for (int i = json.length; i < padded; i++) bytes[i] = ' ';
        return bytes;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        int end = buffer.limit();
        while (buffer.position() < end) {
            buffer.limit(Math.min(end, buffer.position() + IO_CHUNK));
            while (buffer.hasRemaining()) channel.write(buffer);
        }
    }

    /**
     * Forces the directory entry of the rename to disk, so that the new file survives a power
     * loss too. Best effort: not every platform lets a directory be opened (Windows does not),
     * and by now the file itself is complete either way.
     */
    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException notSupported) {
            // the rename has happened; durability of the entry is all that is not guaranteed
        }
    }
}
