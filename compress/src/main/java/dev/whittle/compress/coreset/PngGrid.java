package dev.whittle.compress.coreset;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A grey-scale PNG of a coreset: one row per class, its images side by side (at most
 * {@code maxPerRow} of them), separated by a one-pixel grey line. Written with the JDK's
 * {@link Deflater} and {@link CRC32} alone.
 *
 * <pre>
 * PNG = signature 89 50 4E 47 0D 0A 1A 0A, then chunks:
 *   [length: u32 BE][type: 4 ASCII][data][CRC-32 of type + data: u32 BE]
 *   IHDR  width u32, height u32, bit depth 8, colour type 0 (grey), compression 0, filter 0, interlace 0
 *   IDAT  zlib stream of the scanlines, each prefixed by its filter byte (0: none)
 *   IEND  empty
 * </pre>
 */
public final class PngGrid {

    static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    private static final int GAP = 1;
    private static final byte GAP_GREY = (byte) 128;

    private PngGrid() {}

    /** The grey pixels of the grid (row-major), with its width and height. */
    public record Image(int width, int height, byte[] pixels) {}

    /**
     * Lays out {@code count} images of {@code rows x cols} bytes ({@code images}, one after
     * another) in a grid with one row per class of {@code labels}, in their order within the class.
     */
    public static Image layout(byte[] images, int[] labels, int classes, int rows, int cols, int maxPerRow) {
        int per = rows * cols;
        int[] inClass = new int[classes];
        for (int y : labels) inClass[y]++;
        int across = 0;
        for (int n : inClass) across = Math.max(across, Math.min(n, maxPerRow));
        across = Math.max(across, 1);
        int width = across * (cols + GAP) + GAP, height = classes * (rows + GAP) + GAP;
        byte[] px = new byte[Math.multiplyExact(width, height)];
        java.util.Arrays.fill(px, GAP_GREY);
        int[] placed = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            int c = labels[i], slot = placed[c]++;
            if (slot >= across) continue;
            int top = GAP + c * (rows + GAP), left = GAP + slot * (cols + GAP);
            for (int r = 0; r < rows; r++) System.arraycopy(images, i * per + r * cols, px, (top + r) * width + left, cols);
        }
        return new Image(width, height, px);
    }

    /** The PNG file's bytes for an 8-bit grey image. */
    public static byte[] encode(Image img) {
        int w = img.width(), h = img.height();
        byte[] raw = new byte[Math.multiplyExact(h, w + 1)];
        for (int y = 0; y < h; y++) System.arraycopy(img.pixels(), y * w, raw, y * (w + 1) + 1, w); // filter byte 0
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!deflater.finished()) z.write(buf, 0, deflater.deflate(buf));
        deflater.end();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIGNATURE);
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, w);
        putInt(ihdr, 4, h);
        ihdr[8] = 8;
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", z.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    public static void write(Path file, Image img) throws IOException {
        Files.write(file, encode(img));
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] head = new byte[8];
        putInt(head, 0, data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, head, 4, 4);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] tail = new byte[4];
        putInt(tail, 0, (int) crc.getValue());
        out.writeBytes(head);
        out.writeBytes(data);
        out.writeBytes(tail);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
