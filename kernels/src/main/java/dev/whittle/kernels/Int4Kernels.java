package dev.whittle.kernels;

/**
 * Matrix products with INT4 weights ({@link Int4Matrix}: two nibbles per byte, one scale per group
 * along K), in the two forms pure-Java LLM engines use:
 *
 * <ul>
 * <li>{@link #gemm}: W4 with FP32 activations. Weights are unpacked and converted in registers;
 *     the result is within float rounding of the scalar twin (summation order differs).
 * <li>{@link #gemmA8}: W4A8. Each group of each activation row is first quantized to int8 with
 *     its own symmetric scale ({@code s = max|x| / 127}, values in [-127, 127]); the group's dot
 *     product is then an exact integer, scaled by {@code s_w * s_x} and summed over the groups in
 *     a fixed order, eight float lanes with one FMA per group ({@link ScalarInt4Kernels} states
 *     it), so the result is bit-exact against the twin.
 * </ul>
 *
 * <pre>
 *   gemm:    y[i][j] = sum_g  s_w[j][g] * ( sum_{p in g} W[j][p] * x[i][p] )         (+ bias[j], ReLU)
 *   gemmA8:  y[i][j] = sum_g  (float) ( sum_{p in g} W[j][p] * q[i][p] ) * (s_w[j][g] * s_x[i][g])
 *            (lane l = (g % 16) / 2 accumulates fma(d_g, s_g, lane); then lane 0 + lane 1 + ... + lane 7)
 * </pre>
 *
 * Rows of x are K floats apart; y is {@code [m x N]}; {@code bias} may be null.
 */
public interface Int4Kernels {

    /** W4 with FP32 activations. */
    void gemm(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff);

    /** W4A8: activations quantized per group of each row to int8, integer group dot products. */
    void gemmA8(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff);

    /**
     * {@code dst[dstOff + r * cols + c] = scale * q} of weight {@code (row0 + r, c)} for {@code rows}
     * rows: the FP32 form of a block of rows, for a product that runs better on the FP32 kernels
     * (a convolution's few filters, say). Every implementation gives the same bits.
     */
    void dequantize(Int4Matrix w, int row0, int rows, float[] dst, int dstOff);

    /** The argument checks every implementation makes before touching an array. */
    static void check(int m, float[] x, int xOff, Int4Matrix w, float[] bias, float[] y, int yOff) {
        if (m < 0) throw new IllegalArgumentException("m = " + m);
        if (xOff < 0 || (long) xOff + (long) m * w.cols > x.length) {
            throw new IllegalArgumentException("x [" + m + ", " + w.cols + "] at " + xOff + " exceeds " + x.length);
        }
        if (bias != null && bias.length != w.rows) {
            throw new IllegalArgumentException(w.rows + " output channels but " + bias.length + " biases");
        }
        if (yOff < 0 || (long) yOff + (long) m * w.rows > y.length) {
            throw new IllegalArgumentException("y [" + m + ", " + w.rows + "] at " + yOff + " exceeds " + y.length);
        }
    }

    /** The argument checks of {@link #dequantize}. */
    static void checkRows(Int4Matrix w, int row0, int rows, float[] dst, int dstOff) {
        if (row0 < 0 || rows < 0 || row0 + rows > w.rows) {
            throw new IllegalArgumentException("rows [" + row0 + ", " + (row0 + rows) + ") of " + w.rows);
        }
        if (dstOff < 0 || (long) dstOff + (long) rows * w.cols > dst.length) {
            throw new IllegalArgumentException("dst [" + rows + ", " + w.cols + "] at " + dstOff + " exceeds " + dst.length);
        }
    }

    /** Bias and ReLU, the same expression in every implementation. */
    static float finish(float acc, float[] bias, int j, boolean relu) {
        float v = bias == null ? acc : acc + bias[j];
        return relu ? Math.max(v, 0f) : v;
    }
}
