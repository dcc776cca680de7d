package dev.whittle.datasets;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPOutputStream;

/** Hand-made IDX content for tests, including content no honest writer would produce. */
final class IdxBytes {

    private IdxBytes() {
    }

    /** A header with any magic and dimensions, followed by {@code data}. */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length); // big-endian by default
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] images(int count, int rows, int cols, byte[] pixels) {
        return idx(0x00000803, new int[] {count, rows, cols}, pixels);
    }

    static byte[] labels(byte[] labels) {
        return idx(0x00000801, new int[] {labels.length}, labels);
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Bytes 0..n-1 of a seeded pseudo-random pattern, reproducible without java.util.Random. */
    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        int x = seed * 0x9E3779B9 + 1;
        for (int i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            b[i] = (byte) x;
        }
        return b;
    }
}
