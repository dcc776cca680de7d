package dev.whittle.kernels;

/**
 * The INT8 matrix products of integer-only inference: activations {@code x[m x K]} (int8 with a
 * zero point, one scale per tensor) times weights {@code W[N x K]} (int8, symmetric, one scale
 * per output channel) transposed, accumulated exactly in int32:
 *
 * <pre>
 *   acc[i][j] = sum_p (x[i][p] - xZeroPoint) * W[j][p]  + bias[j]
 * </pre>
 *
 * then one of three epilogues: requantized to int8 for the next layer ({@link #gemm}), the raw
 * int32 ({@link #gemmInt32}), or dequantized to float for the last layer ({@link #gemmFloat}).
 * {@code m = 1} is the matrix-vector product. Rows of x are K bytes apart; y is {@code [m x N]}.
 *
 * <p>Activations are signed int8, not uint8: a product of two int8 is at most 2^14 in
 * magnitude, so two of them (with a weight in [-127, 127]) still fit in a 16-bit lane, and an
 * asymmetric range (after a ReLU, say) costs nothing but the zero point, which the kernels fold
 * into a per-row correction.
 *
 * <p>Every result is exact, so {@link ScalarInt8Kernels} and the Vector API version give the same
 * bits for any thread count.
 */
public interface Int8Kernels {

    /** {@code y[i][j] = rq.requantize(acc[i][j] - bias, j)}: int8 out, bias taken from {@code rq}. */
    void gemm(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, Int8Requantization rq, byte[] y, int yOff);

    /** {@code y[i][j] = acc[i][j]} ({@code bias} may be null). */
    void gemmInt32(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, int[] y, int yOff);

    /**
     * {@code y[i][j] = (float) acc[i][j] * scales[j]}, then {@code max(., 0)} when {@code relu}
     * ({@code scales[j] = s_x * s_w[j]}; {@code bias} may be null).
     */
    void gemmFloat(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, float[] scales,
                   boolean relu, float[] y, int yOff);

    /**
     * {@code y[r] = sum_p W[r][p] * x[p]} for int8 weights {@code W[n x k]} (row-major at {@code
     * w[wOff]}, widened to float as they are read) and float {@code x}: the batch-1 product of a
     * layer whose centred int8 inputs {@code q - z} are held as floats. When every partial sum is
     * an integer below 2^24 in magnitude ({@code k <= 512} with such inputs) the sums are exact, so
     * the order of the additions cannot matter and every implementation gives the same bits;
     * otherwise they agree to float rounding. A quarter of the bytes of the same weights as floats.
     */
    void gemvWidened(int n, int k, byte[] w, int wOff, float[] x, int xOff, float[] y, int yOff);

    /** The argument checks every implementation makes before touching an array. */
    /** The argument checks of {@link #gemvWidened}. */
    static void checkWidened(int n, int k, byte[] w, int wOff, float[] x, int xOff, float[] y, int yOff) {
        if (n < 0 || k < 0) throw new IllegalArgumentException("bad shape " + n + " x " + k);
        if (wOff < 0 || (long) wOff + (long) n * k > w.length) throw new IllegalArgumentException("weights " + n + " x " + k + " at " + wOff + " do not fit in " + w.length);
        if (xOff < 0 || (long) xOff + k > x.length) throw new IllegalArgumentException("x of " + k + " at " + xOff + " does not fit in " + x.length);
        if (yOff < 0 || (long) yOff + n > y.length) throw new IllegalArgumentException("y of " + n + " at " + yOff + " does not fit in " + y.length);
    }

    static void check(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int biasLength, int yLength, int yOff) {
        if (m < 0) throw new IllegalArgumentException("m = " + m);
        Quantization.checkZeroPoint(xZeroPoint, QuantRange.INT8, "activation zero point");
        if (xOff < 0 || (long) xOff + (long) m * w.cols > x.length) {
            throw new IllegalArgumentException("x [" + m + ", " + w.cols + "] at " + xOff + " exceeds " + x.length + " bytes");
        }
        if (biasLength >= 0 && biasLength != w.rows) {
            throw new IllegalArgumentException(w.rows + " output channels but " + biasLength + " per-channel values");
        }
        if (yOff < 0 || (long) yOff + (long) m * w.rows > yLength) {
            throw new IllegalArgumentException("y [" + m + ", " + w.rows + "] at " + yOff + " exceeds " + yLength);
        }
    }
}
