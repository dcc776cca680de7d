package dev.whittle.compress.quantize;

import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, "GPTQ: Accurate Post-Training Quantization for
 * Generative Pre-trained Transformers"): quantizes a layer's weights one input column at a time and,
 * after each column, moves its rounding error onto the columns not yet quantized, in the direction
 * that least changes the layer's output on the calibration inputs. It minimises
 * {@code ‖W X − Ŵ X‖²} greedily (Optimal Brain Quantization, Frantar and Alistarh 2022), with the
 * input statistics given as the Hessian {@code H = 2 X Xᵀ / n} of a {@link HessianAccumulator}.
 *
 * <p>The update of the remaining weights of a row after quantizing column {@code j} is
 * {@code δ = −(w_j − ŵ_j) / [H⁻¹]_jj · [H⁻¹]_{j,:}} followed by removing column {@code j} from
 * {@code H⁻¹}. GPTQ's observation is that, in a fixed column order, all those successive inverses
 * are rows of one matrix: the upper Cholesky factor {@code U} of {@code H⁻¹} ({@code H⁻¹ = UᵀU}).
 * Per row {@code r}, in natural order:
 *
 * <pre>
 *   for j = 0 .. cols-1:
 *       q[r][j] = clamp(rint(W[r][j] / s))                 s: the row's (or group's) scale
 *       e[r][j] = (W[r][j] − s·q[r][j]) / U[j][j]
 *       W[r][j+1..] −= e[r][j] · U[j][j+1..]
 * </pre>
 *
 * As in the paper, columns are taken in blocks ("lazy batch" updates): inside a block the update
 * touches only the block's columns; the block's errors reach the later columns in one
 * {@code W[:, end..] −= E · U[block, end..]} once the block is done, a product that streams the
 * rest of {@code W} once per block rather than once per column.
 *
 * <p>Scales are symmetric min-max, as {@link QuantizedWeights#roundToNearest} chooses them: INT8
 * per channel or per tensor from the original weights; INT4 per group, chosen when the column loop
 * enters a group, from that group's weights as the earlier columns' errors have left them. Natural
 * column order (no {@code act_order}) keeps each group's columns contiguous. With {@code H} a
 * multiple of the identity nothing is moved and the result is round-to-nearest, bit for bit.
 */
public final class Gptq {

    /** The paper's dampening: 1% of the mean diagonal of H is added to the diagonal. */
    public static final double DEFAULT_DAMPENING = 0.01;
    /** The paper's block of columns between lazy updates. */
    public static final int DEFAULT_BLOCK_SIZE = 128;
    /** Times the dampening is raised tenfold before a Hessian is given up as not positive definite. */
    private static final int DAMPENING_RETRIES = 4;

    private Gptq() {}

    /**
     * Quantizes {@code w[rows x cols]} (row-major: output channels by inputs, a Conv2d's inputs in
     * {@code (c, ky, kx)} order) against the input Hessian {@code hessian[cols x cols]}.
     *
     * @param bits        8 (per tensor or per channel) or 4 (per group)
     * @param groupSize   INT4 group size along a row, 32, 64 or 128 (ignored for INT8)
     * @param dampening   fraction of the mean diagonal of H added to the diagonal ({@link #DEFAULT_DAMPENING});
     *                    raised tenfold up to {@value #DAMPENING_RETRIES} times if H is still not positive definite
     * @param blockSize   columns per lazy-update block ({@link #DEFAULT_BLOCK_SIZE}); for INT4 rounded up to a
     *                    multiple of the group size, so that a group's scale is chosen after every earlier
     *                    column's error has reached it
     * @throws IllegalArgumentException for mismatched shapes, an unsupported format, or a Hessian with
     *                                  non-finite entries or a negative diagonal
     */
    public static QuantizedWeights quantize(float[] w, int rows, int cols, double[] hessian, int bits,
                                            Granularity granularity, int groupSize, double dampening, int blockSize) {
        checkArguments(w, rows, cols, hessian, bits, granularity, groupSize, dampening, blockSize);
        double[] weights = new double[rows * cols];
        for (int i = 0; i < weights.length; i++) weights[i] = w[i];
        double[] h = hessian.clone();
        // An input that was always zero says nothing about its weights, and they never change the
        // output: drop them (weight 0) and give H a unit diagonal there so that it stays invertible.
        for (int i = 0; i < cols; i++) {
            if (h[i * cols + i] == 0.0) {
                h[i * cols + i] = 1.0;
                for (int r = 0; r < rows; r++) weights[r * cols + i] = 0.0;
            }
        }
        double[] u = inverseCholeskyWithDampening(h, cols, dampening);

        QuantRange range = bits == 4 ? QuantRange.INT4 : QuantRange.INT8_NARROW;
        int groups = bits == 4 ? Quantization.roundUp(cols, groupSize) / groupSize : 1;
        float[] scales = switch (granularity) {
            case PER_TENSOR -> new float[] {Quantization.symmetricScale(absMax(weights, 0, weights.length), range)};
            case PER_CHANNEL -> {
                float[] s = new float[rows];
                for (int r = 0; r < rows; r++) s[r] = Quantization.symmetricScale(absMax(weights, r * cols, cols), range);
                yield s;
            }
            case PER_GROUP -> new float[rows * groups]; // chosen as the column loop reaches each group
        };
        byte[] q = new byte[rows * cols];
        int block = bits == 4 ? Quantization.roundUp(blockSize, groupSize) : blockSize;
        double[] errors = new double[rows * block];
        for (int from = 0; from < cols; from += block) {
            int to = Math.min(from + block, cols), width = to - from;
            for (int j = from; j < to; j++) {
                if (bits == 4 && j % groupSize == 0) chooseGroupScales(weights, rows, cols, j, groupSize, groups, scales);
                quantizeColumn(weights, rows, cols, j, to, u, scales, bits == 4 ? groupSize : 0, groups, range, q, errors, width, j - from);
            }
            propagate(weights, rows, cols, from, to, u, errors, width);
        }
        return bits == 4
                ? QuantizedWeights.int4(q, rows, cols, groupSize, scales)
                : QuantizedWeights.int8(q, rows, cols, granularity, scales);
    }

    /** For each row, the scale of the group starting at column {@code from}, from its current weights. */
    private static void chooseGroupScales(double[] w, int rows, int cols, int from, int groupSize, int groups, float[] scales) {
        int len = Math.min(groupSize, cols - from), g = from / groupSize;
        for (int r = 0; r < rows; r++) {
            scales[r * groups + g] = Quantization.symmetricScale(absMax(w, r * cols + from, len), QuantRange.INT4);
        }
    }

    /**
     * Quantizes column {@code j} of every row and spreads each row's scaled error over the columns
     * {@code j+1 .. blockEnd-1}; the error is kept for the block's lazy update of the later columns.
     */
    private static void quantizeColumn(double[] w, int rows, int cols, int j, int blockEnd, double[] u, float[] scales,
                                       int groupSize, int groups, QuantRange range, byte[] q, double[] errors, int width, int slot) {
        double d = u[j * cols + j];
        int uRow = j * cols;
        for (int r = 0; r < rows; r++) {
            int at = r * cols + j;
            float s = scales[groupSize > 0 ? r * groups + j / groupSize : (scales.length == 1 ? 0 : r)];
            // quantize the float the value would have been, so that untouched weights round exactly as RTN rounds them
            int v = Quantization.quantize((float) w[at], s, 0, range);
            q[at] = (byte) v;
            double e = (w[at] - Quantization.dequantize(v, s, 0)) / d;
            errors[r * width + slot] = e;
            if (e == 0.0) continue;
            for (int k = j + 1; k < blockEnd; k++) w[r * cols + k] -= e * u[uRow + k];
        }
    }

    /** The lazy update: {@code W[:, to..] −= E[:, block] · U[from..to, to..]}. */
    private static void propagate(double[] w, int rows, int cols, int from, int to, double[] u, double[] errors, int width) {
        if (to == cols) return;
        for (int r = 0; r < rows; r++) {
            int row = r * cols;
            for (int i = 0; i < to - from; i++) {
                double e = errors[r * width + i];
                if (e == 0.0) continue;
                int uRow = (from + i) * cols;
                for (int k = to; k < cols; k++) w[row + k] -= e * u[uRow + k];
            }
        }
    }

    private static float absMax(double[] w, int off, int n) {
        float m = 0f;
        for (int i = off; i < off + n; i++) m = Math.max(m, Math.abs((float) w[i]));
        return m;
    }

    // ---- linear algebra ----------------------------------------------------------------------------

    /**
     * The upper Cholesky factor of {@code (H + λI)⁻¹} for {@code λ = dampening · mean(diag H)}, with
     * λ raised tenfold while H + λI is not numerically positive definite.
     */
    private static double[] inverseCholeskyWithDampening(double[] h, int n, double dampening) {
        double mean = 0.0;
        for (int i = 0; i < n; i++) mean += h[i * n + i];
        mean /= n;
        double lambda = dampening * mean;
        for (int attempt = 0; ; attempt++) {
            double[] damped = h.clone();
            for (int i = 0; i < n; i++) damped[i * n + i] += lambda;
            double[] u = inverseCholesky(damped, n);
            if (u != null) return u;
            if (attempt == DAMPENING_RETRIES) {
                throw new IllegalArgumentException("the Hessian is not positive definite even with " + lambda
                        + " added to its diagonal (mean diagonal " + mean + ")");
            }
            lambda = Math.max(lambda * 10.0, 1e-6 * mean);
        }
    }

    /**
     * The upper-triangular {@code U} with positive diagonal such that {@code A⁻¹ = UᵀU}, for a
     * symmetric positive definite {@code a[n x n]}; null if {@code a} is not (numerically) positive
     * definite.
     *
     * <p>Rather than invert A and factor the inverse (two O(n³) passes over a matrix whose
     * small eigenvalues have become large ones), this factors A "backwards", {@code A = R Rᵀ} with
     * {@code R} upper (a Cholesky factorisation of A with its rows and columns reversed), and inverts
     * R: then {@code A⁻¹ = R⁻ᵀ R⁻¹}, so {@code U = R⁻¹} by the uniqueness of the Cholesky factor.
     */
    static double[] inverseCholesky(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) l[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
        }
        if (!choleskyLower(l, n)) return null;
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) r[i * n + j] = l[(n - 1 - i) * n + (n - 1 - j)];
        }
        return invertUpper(r, n);
    }

    /**
     * Overwrites symmetric {@code a[n x n]} with its lower Cholesky factor L ({@code A = L Lᵀ}, the
     * upper triangle zeroed); false if a pivot is not positive. Row by row (Cholesky–Banachiewicz),
     * so every inner product runs along two rows.
     */
    static boolean choleskyLower(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int j = 0; j <= i; j++) {
                int rj = j * n;
                double s = a[ri + j];
                for (int k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
                if (i == j) {
                    if (!(s > 0.0) || Double.isInfinite(s)) return false;
                    a[ri + i] = Math.sqrt(s);
                } else {
                    a[ri + j] = s / a[rj + j];
                }
            }
            for (int j = i + 1; j < n; j++) a[ri + j] = 0.0;
        }
        return true;
    }

    /**
     * The inverse of upper-triangular {@code r[n x n]} (positive diagonal), itself upper triangular.
     * Solves {@code R X = I} from the last row up: row i of X is
     * {@code (eᵢ − Σ_{k>i} R[i][k] X[k]) / R[i][i]}, every update a contiguous run along a row.
     */
    static double[] invertUpper(double[] r, int n) {
        double[] x = new double[n * n];
        for (int i = n - 1; i >= 0; i--) {
            int ri = i * n;
            x[ri + i] = 1.0;
            for (int k = i + 1; k < n; k++) {
                double rik = r[ri + k];
                if (rik == 0.0) continue;
                int rk = k * n;
                for (int j = k; j < n; j++) x[ri + j] -= rik * x[rk + j];
            }
            double inv = 1.0 / r[ri + i];
            for (int j = i; j < n; j++) x[ri + j] *= inv;
        }
        return x;
    }

    // ---- checks ------------------------------------------------------------------------------------

    private static void checkArguments(float[] w, int rows, int cols, double[] hessian, int bits, Granularity granularity,
                                       int groupSize, double dampening, int blockSize) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("weights [" + rows + ", " + cols + "] are empty");
        if (w.length != (long) rows * cols) {
            throw new IllegalArgumentException("weights [" + rows + ", " + cols + "] need " + (long) rows * cols + " values, got " + w.length);
        }
        if (hessian.length != (long) cols * cols) {
            throw new IllegalArgumentException("a Hessian for " + cols + " inputs needs " + (long) cols * cols + " entries, got " + hessian.length);
        }
        switch (bits) {
            case 4 -> {
                if (granularity != Granularity.PER_GROUP) throw new IllegalArgumentException("INT4 weights are quantized per group, not " + granularity);
                if (groupSize != 32 && groupSize != 64 && groupSize != 128) {
                    throw new IllegalArgumentException("INT4 group size must be 32, 64 or 128, got " + groupSize);
                }
            }
            case 8 -> {
                if (granularity == Granularity.PER_GROUP) throw new IllegalArgumentException("INT8 weights are quantized per tensor or per channel, not per group");
            }
            default -> throw new IllegalArgumentException("weights are quantized to 8 or 4 bits, not " + bits);
        }
        if (!(dampening >= 0.0) || Double.isInfinite(dampening)) throw new IllegalArgumentException("dampening must be finite and non-negative, got " + dampening);
        if (blockSize < 1) throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) throw new IllegalArgumentException("weight [" + i / cols + ", " + i % cols + "] = " + w[i]);
        }
        for (int i = 0; i < hessian.length; i++) {
            if (!Double.isFinite(hessian[i])) throw new IllegalArgumentException("Hessian [" + i / cols + ", " + i % cols + "] = " + hessian[i]);
        }
        for (int i = 0; i < cols; i++) {
            if (hessian[i * cols + i] < 0.0) {
                throw new IllegalArgumentException("Hessian diagonal [" + i + "] = " + hessian[i * cols + i] + " is negative");
            }
        }
    }
}
