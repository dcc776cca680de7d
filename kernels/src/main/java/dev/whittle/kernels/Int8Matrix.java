package dev.whittle.kernels;

/**
 * INT8 weights of a Linear (or im2col'ed Conv2d) layer, {@code [rows x cols]} = {@code [N x K]},
 * one row per output channel, prepared once at load time for the {@link Int8Kernels}.
 *
 * <pre>
 *   data:  row 0: w[0][0] .. w[0][K-1]  0 0 .. 0      stride = K rounded up to 64 bytes,
 *          row 1: w[1][0] .. w[1][K-1]  0 0 .. 0      so a vector loop needs no tail
 *          ...
 *   rowSums[j] = sum_p w[j][p]    (folds the activation zero point out of the inner loop:
 *                                   sum (x - zx) w = sum x w - zx * rowSums[j])
 *
 *   even columns are held as w ^ 0x80 (w + 128 as an unsigned byte, padding 0x80), odd columns
 *   as they are:  a 16-bit lane, read little-endian, is  w[2i+1] * 256 + (w[2i] + 128),  so the
 *   kernels take the even weight with one AND and one subtraction and the odd one with one
 *   arithmetic shift (see VectorInt8Kernels)
 * </pre>
 *
 * Values must lie in [-127, 127] ({@link QuantRange#INT8_NARROW}, symmetric weights): the
 * kernels add two 16-bit products before widening, which -128 could overflow.
 */
public final class Int8Matrix {

    /** Row padding, in bytes: a whole number of 512-bit vectors. */
    static final int ROW_ALIGN = 64;
    /** XORed into the bytes of even columns (and their padding). */
    static final int EVEN_BIAS = 0x80;

    final byte[] data;
    final int rows;
    final int cols;
    final int stride;
    final int[] rowSums;

    private Int8Matrix(byte[] data, int rows, int cols, int stride, int[] rowSums) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.stride = stride;
        this.rowSums = rowSums;
    }

    /**
     * Copies {@code w[rows x cols]} (row-major, from {@code off}) into the kernels' layout.
     *
     * @throws IllegalArgumentException on a bad shape or a value of -128
     */
    public static Int8Matrix pack(byte[] w, int off, int rows, int cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("INT8 weights [" + rows + ", " + cols + "] are empty");
        if (off < 0 || (long) off + (long) rows * cols > w.length) {
            throw new IllegalArgumentException("INT8 weights [" + rows + ", " + cols + "] at offset " + off
                    + " do not fit in " + w.length + " bytes");
        }
        int stride = Quantization.roundUp(cols, ROW_ALIGN);
        if ((long) rows * stride > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("INT8 weights too large");
        byte[] data = new byte[rows * stride];
        for (int i = 0; i < data.length; i += 2) data[i] = (byte) EVEN_BIAS;
        int[] sums = new int[rows];
        for (int r = 0; r < rows; r++) {
            int s = 0;
            for (int c = 0; c < cols; c++) {
                byte v = w[off + r * cols + c];
                if (v == Byte.MIN_VALUE) {
                    throw new IllegalArgumentException("INT8 weight [" + r + ", " + c + "] is -128: weights must lie in [-127, 127]");
                }
                data[r * stride + c] = (byte) ((c & 1) == 0 ? v ^ EVEN_BIAS : v);
                s += v;
            }
            sums[r] = s;
        }
        return new Int8Matrix(data, rows, cols, stride, sums);
    }

    /** Output channels (N). */
    public int rows() {
        return rows;
    }

    /** Inputs per output (K). */
    public int cols() {
        return cols;
    }

    /** Weight (row, col). */
    public int get(int row, int col) {
        return weight(data[row * stride + col], col);
    }

    /** The weight held as byte {@code b} in column {@code col}. */
    static int weight(byte b, int col) {
        return (col & 1) == 0 ? (byte) (b ^ EVEN_BIAS) : b;
    }

    /** Channels per panel of {@link #panels()}: the width of the GEMM's register tile. */
    static final int PANEL = GemmMicroKernel.NR;

    private volatile byte[] panels;

    /**
     * The same weights in the order the batched product's micro-kernel reads them, built on the
     * first batched call (a model only ever run at batch 1 never holds it): for each group of
     * {@link #PANEL} rows, column by column, the group's weights side by side, as plain int8
     * values, zeros past the last row.
     * <pre>
     *   panels[(q * cols + p) * PANEL + c] = w[q * PANEL + c][p]
     * </pre>
     * Packing a block for the micro-kernel is then a widening of {@link #PANEL} contiguous bytes
     * (16 with 256-bit vectors) to floats per column instead of a byte-by-byte transposition of the
     * rows: on lenet-300-100's first layer (300 x 784) the transposition took as long per call as
     * the products of a batch of 64, and the INT8 model ran at 0.71-0.85x the FP32 model's batch-64
     * throughput; with the panels, 1.18-1.22x.
     *
     * @throws IllegalStateException if the padded panels would not fit in one array
     */
    byte[] panels() {
        byte[] p = panels;
        if (p == null) {
            synchronized (this) {
                p = panels;
                if (p == null) {
                    long size = (long) ((rows + PANEL - 1) / PANEL) * PANEL * cols;
                    if (size > Integer.MAX_VALUE - 8) {
                        throw new IllegalStateException("INT8 weights [" + rows + ", " + cols + "] too large for the batched product's panels");
                    }
                    p = new byte[(int) size];
                    for (int r = 0; r < rows; r++) {
                        int q = r / PANEL, c = r % PANEL, o = r * stride;
                        for (int col = 0; col < cols; col++) p[(q * cols + col) * PANEL + c] = (byte) weight(data[o + col], col);
                    }
                    panels = p;
                }
            }
        }
        return p;
    }

    /** Bytes held (the padded rows and the row sums, and the panels once a batched product built them). */
    public long bytes() {
        byte[] p = panels;
        return (long) data.length + 4L * rowSums.length + (p == null ? 0 : p.length);
    }
}
