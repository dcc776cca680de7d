package dev.whittle.kernels;

/**
 * INT4 weights {@code [rows x cols]} = {@code [N x K]} with one scale per group of
 * {@code groupSize} (32, 64 or 128) consecutive weights along a row; K is padded with zeros to a
 * whole number of groups ({@code paddedCols}). Symmetric: {@code w = scale * q}, q in [-8, 7].
 *
 * <p>Two weights per byte, two's complement nibbles, the even index in the low nibble:
 *
 * <pre>
 *   byte i of a row:   bit 7 6 5 4   3 2 1 0
 *                         [ q[2i+1] ] [ q[2i] ]
 *                          high nibble low nibble
 *
 *   row r:  bytes 0 .. paddedCols/2 - 1          scales: [r][0] [r][1] ... one per group
 *           |<-- group 0 -->|<-- group 1 -->| ..          (row-major, paddedCols/groupSize per row)
 *            groupSize/2 bytes each
 * </pre>
 *
 * This is the layout {@link #packed()} returns and {@link #ofPacked} accepts (the model file stores
 * it as U8 {@code [N, paddedCols/2]}). In memory each row is further padded to a multiple of 32
 * bytes, the span one 256-bit load covers, so the kernels need no tail loop.
 */
public final class Int4Matrix {

    /** Weights one 256-bit load covers (32 bytes). */
    static final int BLOCK = 64;

    final byte[] data;
    final float[] scales;
    final int rows;
    final int cols;
    final int groupSize;
    final int paddedCols;
    /** Groups per row. */
    final int groups;
    /** Bytes per row in {@link #data}: paddedCols rounded up to {@link #BLOCK}, halved. */
    final int stride;

    private Int4Matrix(int rows, int cols, int groupSize, float[] scales) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("INT4 weights [" + rows + ", " + cols + "] are empty");
        if (groupSize != 32 && groupSize != 64 && groupSize != 128) {
            throw new IllegalArgumentException("INT4 group size must be 32, 64 or 128, got " + groupSize);
        }
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.paddedCols = Quantization.roundUp(cols, groupSize);
        Quantization.checkGroupSize(groupSize, paddedCols);
        this.groups = paddedCols / groupSize;
        this.stride = Quantization.roundUp(paddedCols, BLOCK) / 2;
        if ((long) rows * stride > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("INT4 weights too large");
        if (scales == null || scales.length != (long) rows * groups) {
            throw new IllegalArgumentException("INT4 weights [" + rows + ", " + cols + "] with group " + groupSize
                    + " need " + (long) rows * groups + " scales, got " + (scales == null ? 0 : scales.length));
        }
        for (int i = 0; i < scales.length; i++) Quantization.checkScale(scales[i], "INT4 scale[" + i + "]");
        this.scales = scales.clone();
        this.data = new byte[rows * stride];
    }

    /**
     * Packs {@code values[rows x cols]} (one weight per byte, each in [-8, 7], row-major from
     * {@code off}) with {@code rows * paddedCols / groupSize} scales.
     */
    public static Int4Matrix pack(byte[] values, int off, int rows, int cols, int groupSize, float[] scales) {
        Int4Matrix w = new Int4Matrix(rows, cols, groupSize, scales);
        if (off < 0 || (long) off + (long) rows * cols > values.length) {
            throw new IllegalArgumentException("INT4 values [" + rows + ", " + cols + "] at " + off + " exceed " + values.length);
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int v = values[off + r * cols + c];
                if (!QuantRange.INT4.contains(v)) {
                    throw new IllegalArgumentException("INT4 weight [" + r + ", " + c + "] = " + v + " is outside [-8, 7]");
                }
                int at = r * w.stride + (c >> 1), shift = (c & 1) * 4;
                w.data[at] |= (byte) ((v & 0xF) << shift);
            }
        }
        return w;
    }

    /**
     * Wraps weights already packed as {@link #packed()} returns them ({@code rows * paddedCols / 2}
     * bytes), as a model file stores them.
     *
     * @throws IllegalArgumentException if the byte count, group size or a scale is wrong
     */
    public static Int4Matrix ofPacked(byte[] packed, int rows, int cols, int groupSize, float[] scales) {
        Int4Matrix w = new Int4Matrix(rows, cols, groupSize, scales);
        int rowBytes = w.paddedCols / 2;
        if (packed.length != (long) rows * rowBytes) {
            throw new IllegalArgumentException("packed INT4 tensor has " + packed.length + " bytes, but shape [" + rows
                    + ", " + cols + "] with group " + groupSize + " (K padded to " + w.paddedCols + ") needs "
                    + (long) rows * rowBytes);
        }
        for (int r = 0; r < rows; r++) System.arraycopy(packed, r * rowBytes, w.data, r * w.stride, rowBytes);
        return w;
    }

    /**
     * Quantizes float weights {@code w[rows x cols]} symmetrically, one scale per group chosen by
     * min-max: {@code scale = max|w| / 7}, {@code q = clamp(rint(w / scale), -8, 7)}.
     */
    public static Int4Matrix quantize(float[] w, int off, int rows, int cols, int groupSize) {
        QuantParams p = Quantization.symmetricPerGroup(w, off, rows, cols, groupSize, QuantRange.INT4);
        int pc = p.paddedCols(cols);
        byte[] q = new byte[rows * pc];
        Quantization.quantize(w, off, rows, cols, p, q, 0);
        byte[] values = new byte[rows * cols];
        for (int r = 0; r < rows; r++) System.arraycopy(q, r * pc, values, r * cols, cols);
        return pack(values, 0, rows, cols, groupSize, p.scales());
    }

    /** The packed bytes, {@code [rows x paddedCols/2]}, in the layout drawn above (a copy). */
    public byte[] packed() {
        int rowBytes = paddedCols / 2;
        byte[] out = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++) System.arraycopy(data, r * stride, out, r * rowBytes, rowBytes);
        return out;
    }

    /** The scales, {@code [rows x paddedCols/groupSize]} (a copy). */
    public float[] scales() {
        return scales.clone();
    }

    /** Weight (row, col) as an integer in [-8, 7]; 0 in the padding. */
    public int get(int row, int col) {
        int b = data[row * stride + (col >> 1)];
        return (col & 1) == 0 ? (byte) (b << 4) >> 4 : b >> 4;
    }

    /** The scale of group {@code g} of row {@code row}. */
    public float scale(int row, int g) {
        return scales[row * groups + g];
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int groupSize() {
        return groupSize;
    }

    /** K padded to whole groups. */
    public int paddedCols() {
        return paddedCols;
    }

    /** Bytes held: packed weights and scales. */
    public long bytes() {
        return (long) data.length + 4L * scales.length;
    }
}
