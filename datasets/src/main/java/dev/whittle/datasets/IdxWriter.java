package dev.whittle.datasets;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPOutputStream;

/**
 * Writes IDX files of unsigned bytes, the format {@code idx:DIR} reads back: images as
 * {@code train-images-idx3-ubyte[.gz]}, labels as {@code train-labels-idx1-ubyte[.gz]} and the
 * {@code t10k-} pair for a test split. A name ending in {@code .gz} is gzip-compressed. Each file
 * is written beside its destination and renamed into place, so a crash never leaves half a file.
 */
public final class IdxWriter {

    private IdxWriter() {
    }

    /** Writes {@code count} images of {@code rows x cols} unsigned bytes, stored row-major in {@code pixels}. */
    public static void writeImages(Path file, int count, int rows, int cols, byte[] pixels) throws IOException {
        long perImage = (long) rows * cols; // both below 2^31, so neither product below can overflow a long
        if (count <= 0 || rows <= 0 || cols <= 0 || (long) count * perImage != pixels.length) {
            throw new IllegalArgumentException(count + " images of " + rows + "x" + cols + " do not fit "
                    + pixels.length + " pixel bytes");
        }
        write(file, 0x00000803, new int[] {count, rows, cols}, pixels);
    }

    /** Writes one unsigned byte per label (values 0..255). */
    public static void writeLabels(Path file, byte[] labels) throws IOException {
        if (labels.length == 0) throw new IllegalArgumentException("no labels to write");
        write(file, 0x00000801, new int[] {labels.length}, labels);
    }

    private static void write(Path file, int magic, int[] dims, byte[] data) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = dev.whittle.engine.io.TemporaryFiles.createBeside(dir, file.getFileName().toString());
        try {
            try (OutputStream raw = Files.newOutputStream(temp);
                 OutputStream packed = file.getFileName().toString().endsWith(".gz")
                         ? new GZIPOutputStream(raw, 1 << 16) : new BufferedOutputStream(raw, 1 << 16);
                 DataOutputStream out = new DataOutputStream(packed)) {
                out.writeInt(magic); // DataOutputStream writes big-endian, as IDX wants
                for (int d : dims) out.writeInt(d);
                out.write(data);
            }
            moveIntoPlace(temp, file);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void moveIntoPlace(Path temp, Path file) throws IOException {
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
