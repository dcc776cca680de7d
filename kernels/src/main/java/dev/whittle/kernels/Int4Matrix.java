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
 * it as U8 {@code [N, paddedCols/2]}).
 *
 * <p>In memory the kernels want another order, so {@link #pack} and {@link #ofPacked} rearrange
 * (and {@link #packed()} restores) it. A row is cut into blocks of 16 groups; one 256-bit load
 * (32 bytes, 16 short lanes of 4 nibbles) holds four consecutive weights of each of the 16
 * groups, so a 16-bit lane only ever sums products of its own group and no group needs a
 * horizontal reduction. Nibbles are stored offset by 8 ({@code u = q + 8} in [0, 15]), so one
 * AND takes a weight out after a 32-bit shift (no sign extension):
 *
 * <pre>
 *   block b (groups 16b .. 16b+15), load t (0 .. groupSize/4 - 1), short lane j, nibble r:
 *       u = q[group 16b + j][4t + r] + 8          at bits 4r .. 4r+3 of lane j (bytes 2j, 2j+1)
 *   row: | block 0: load 0 | load 1 | .. | block 1: .. |     8 * groupSize bytes per block;
 *   groups past the last (to a whole block) hold q = 0
 *   scales: per row and block, the 8 even groups 16b+2i then the 8 odd ones 16b+2i+1 (as the
 *   int lanes of a load fall), 0 for the padding groups
 * </pre>
 */
public final class Int4Matrix {

    /** Groups in one block of the in-memory layout: the 16 short lanes of a 256-bit load. */
    static final int LANES = 16;

    final byte[] data;
    /** The scales in the in-memory order drawn above. */
    final float[] laneScales;
    final int rows;
    final int cols;
    final int groupSize;
    final int paddedCols;
    /** Groups per row. */
    final int groups;
    /** Blocks of {@link #LANES} groups per row. */
    final int blocks;
    /** Loads (32 bytes) per block: groupSize / 4. */
    final int loads;
    /** Bytes per row in {@link #data}. */
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
        this.blocks = (groups + LANES - 1) / LANES;
        this.loads = groupSize / 4;
        this.stride = blocks * 8 * groupSize;
        if ((long) rows * stride > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("INT4 weights too large");
        if (scales == null || scales.length != (long) rows * groups) {
            throw new IllegalArgumentException("INT4 weights [" + rows + ", " + cols + "] with group " + groupSize
                    + " need " + (long) rows * groups + " scales, got " + (scales == null ? 0 : scales.length));
        }
        for (int i = 0; i < scales.length; i++) Quantization.checkScale(scales[i], "INT4 scale[" + i + "]");
        this.laneScales = new float[rows * blocks * LANES];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) laneScales[scaleIndex(r, g)] = scales[r * groups + g];
        }
        this.data = new byte[rows * stride];
        java.util.Arrays.fill(data, (byte) 0x88); // q = 0 everywhere, padding included
    }

    /** Where scale (row, group g) sits in {@link #laneScales}. */
    private int scaleIndex(int row, int g) {
        int j = g % LANES;
        return (row * blocks + g / LANES) * LANES + (j & 1) * (LANES / 2) + (j >> 1);
    }

    /** The byte of {@link #data} that holds weight (row, col), at bit {@link #shift}. */
    private int byteIndex(int row, int col) {
        int g = col / groupSize, i = col % groupSize;
        return row * stride + (g / LANES) * 8 * groupSize + (i >> 2) * 32 + 2 * (g % LANES) + ((i & 3) >> 1);
    }

    /** The bit offset of weight col's nibble in its byte. */
    private static int shift(int col) {
        return (col & 1) * 4;
    }

    private void set(int row, int col, int q) {
        int at = byteIndex(row, col), sh = shift(col);
        data[at] = (byte) ((data[at] & ~(0xF << sh)) | (((q & 0xF) ^ 8) << sh));
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
                w.set(r, c, v);
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
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < w.paddedCols; c++) {
                int b = packed[r * rowBytes + (c >> 1)];
                w.set(r, c, (c & 1) == 0 ? (byte) (b << 4) >> 4 : b >> 4);
            }
        }
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
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < paddedCols; c++) out[r * rowBytes + (c >> 1)] |= (byte) ((get(r, c) & 0xF) << shift(c));
        }
        return out;
    }

    /** The scales, {@code [rows x paddedCols/groupSize]} (a copy). */
    public float[] scales() {
        float[] out = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) out[r * groups + g] = laneScales[scaleIndex(r, g)];
        }
        return out;
    }

    /** Weight (row, col) as an integer in [-8, 7]; 0 in the padding. */
    public int get(int row, int col) {
        if (col >= paddedCols) return 0;
        return ((data[byteIndex(row, col)] >> shift(col)) & 0xF) - 8;
    }

    /** The scale of group {@code g} of row {@code row}. */
    public float scale(int row, int g) {
        return laneScales[scaleIndex(row, g)];
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
        return (long) data.length + 4L * laneScales.length;
    }
}
