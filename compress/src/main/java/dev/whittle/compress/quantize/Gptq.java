package dev.whittle.compress.quantize;

import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.util.Arrays;

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
 * column order (no {@code act_order}) keeps each group's columns contiguous. With a diagonal
 * {@code H} (uncorrelated inputs, none dead) {@code U} is diagonal, nothing is moved, and the
 * result is round-to-nearest, bit for bit.
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
     *                    raised tenfold up to 4 times while H is not positive definite
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
        // An input that was always zero says nothing about its weights, and they never change the
        // output: drop them (weight 0); inverseFactor gives H a unit diagonal there.
        for (int i = 0; i < cols; i++) {
            if (hessian[i * cols + i] == 0.0) {
                for (int r = 0; r < rows; r++) weights[r * cols + i] = 0.0;
            }
        }
        double[] u = inverseFactor(hessian, cols, dampening);

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
        int block = Math.min(blockSize, cols); // bounded first, so that rounding up cannot overflow
        if (bits == 4) block = Quantization.roundUp(block, groupSize);
        Sweep sweep = new Sweep(weights, rows, cols, u, range, scales, bits == 4 ? groupSize : 0, groups, Math.min(block, cols));
        for (int from = 0; from < cols; from += block) {
            int to = Math.min(from + block, cols);
            for (int j = from; j < to; j++) {
                if (bits == 4 && j % groupSize == 0) sweep.chooseGroupScales(j);
                sweep.quantizeColumn(j, from, to);
            }
            sweep.propagate(from, to);
        }
        return bits == 4
                ? QuantizedWeights.int4(sweep.q, rows, cols, groupSize, scales)
                : QuantizedWeights.int8(sweep.q, rows, cols, granularity, scales);
    }

    /** The state of one left-to-right pass over the columns: weights as updated so far, and the block's errors. */
    private static final class Sweep {
        final double[] w;      // [rows x cols], columns right of the current one carry the errors so far
        final int rows, cols;
        final double[] u;      // upper Cholesky factor of H⁻¹, [cols x cols]
        final QuantRange range;
        final float[] scales;  // 1, per row, or [rows x groups]
        final int groupSize;   // 0 unless per group
        final int groups;
        final byte[] q;        // [rows x cols]
        final double[] errors; // [rows x block]: e = (w − ŵ) / U_jj of the current block's columns
        final int block;

        Sweep(double[] w, int rows, int cols, double[] u, QuantRange range, float[] scales, int groupSize, int groups, int block) {
            this.w = w;
            this.rows = rows;
            this.cols = cols;
            this.u = u;
            this.range = range;
            this.scales = scales;
            this.groupSize = groupSize;
            this.groups = groups;
            this.q = new byte[rows * cols];
            this.errors = new double[rows * block];
            this.block = block;
        }

        /** For each row, the scale of the group starting at column {@code from}, from its current weights. */
        void chooseGroupScales(int from) {
            int len = Math.min(groupSize, cols - from), g = from / groupSize;
            for (int r = 0; r < rows; r++) {
                // rounded to FP16 as round-to-nearest's INT4 scales are (QuantizedWeights.int4Scales), so the file can store them in 2 bytes
                float scale = Quantization.symmetricScale(absMax(w, r * cols + from, len), range);
                float half = Float.float16ToFloat(Float.floatToFloat16(scale));
                scales[r * groups + g] = half > 0f && Float.isFinite(half) ? half : scale;
            }
        }

        float scale(int r, int j) {
            if (groupSize > 0) return scales[r * groups + j / groupSize];
            return scales[scales.length == 1 ? 0 : r];
        }

        /**
         * Quantizes column {@code j} of every row and spreads each row's scaled error over the
         * columns {@code j+1 .. to-1} of the block; the error is kept for the block's lazy update.
         */
        void quantizeColumn(int j, int from, int to) {
            int uRow = j * cols;
            double d = u[uRow + j];
            for (int r = 0; r < rows; r++) {
                int at = r * cols + j;
                float s = scale(r, j);
                // quantize the float the weight would have been, so that an untouched weight rounds exactly as RTN rounds it
                int v = Quantization.quantize((float) w[at], s, 0, range);
                q[at] = (byte) v;
                double e = (w[at] - Quantization.dequantize(v, s, 0)) / d;
                errors[r * block + j - from] = e;
                if (e == 0.0) continue;
                for (int k = j + 1; k < to; k++) w[r * cols + k] -= e * u[uRow + k];
            }
        }

        /** The lazy update: {@code W[:, to..] −= E · U[from..to, to..]}. */
        void propagate(int from, int to) {
            if (to == cols) return;
            for (int r = 0; r < rows; r++) {
                int row = r * cols;
                for (int i = 0; i < to - from; i++) {
                    double e = errors[r * block + i];
                    if (e == 0.0) continue;
                    int uRow = (from + i) * cols;
                    for (int k = to; k < cols; k++) w[row + k] -= e * u[uRow + k];
                }
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
     * The upper Cholesky factor of {@code (H' + λI)⁻¹}, where H' is H with a unit diagonal at its
     * dead (zero-diagonal) inputs and {@code λ = dampening · mean(diag H')}; λ is raised tenfold while
     * {@code H' + λI} is not numerically positive definite.
     */
    private static double[] inverseFactor(double[] h, int n, double dampening) {
        double mean = 0.0;
        for (int i = 0; i < n; i++) mean += h[i * n + i] == 0.0 ? 1.0 : h[i * n + i];
        mean /= n;
        double lambda = dampening * mean;
        double[] work = new double[n * n]; // the one n² array GPTQ needs beyond H: wide conv layers have n in the thousands
        for (int attempt = 0; ; attempt++) {
            reverse(h, work);
            for (int i = 0; i < n; i++) {
                int d = i * n + i;
                work[d] = (work[d] == 0.0 ? 1.0 : work[d]) + lambda;
            }
            if (inverseFactorOfReversed(work, n)) return work;
            if (attempt == DAMPENING_RETRIES) {
                throw new IllegalArgumentException("the Hessian is not positive definite even with " + lambda
                        + " added to its diagonal (mean diagonal " + mean + ")");
            }
            lambda = Math.max(lambda * 10.0, 1e-6 * mean);
        }
    }

    /**
     * The upper-triangular {@code U} with positive diagonal such that {@code A⁻¹ = UᵀU}, for a
     * symmetric positive definite {@code a[n x n]} (not changed); null if {@code a} is not
     * (numerically) positive definite.
     */
    static double[] inverseCholesky(double[] a, int n) {
        double[] work = new double[n * n];
        reverse(a, work);
        return inverseFactorOfReversed(work, n) ? work : null;
    }

    /**
     * Overwrites {@code JAJ} (A with its rows and columns in reverse order, J the reversal) with the
     * upper Cholesky factor U of {@code A⁻¹}, {@code A⁻¹ = UᵀU}; false if A is not positive definite.
     *
     * <p>Rather than invert A and factor the inverse (two factorisations, and an explicit inverse
     * whose small eigenvalues have become large ones), this factors A "backwards": the Cholesky
     * factor of JAJ = L Lᵀ gives {@code A = R Rᵀ} with {@code R = J L J} upper triangular. Then
     * {@code A⁻¹ = R⁻ᵀ R⁻¹}, so {@code U = R⁻¹} by the uniqueness of the Cholesky factor. Reversing
     * rows and columns of a row-major matrix is reversing its array, so it all happens in place.
     */
    private static boolean inverseFactorOfReversed(double[] a, int n) {
        if (!choleskyLower(a, n)) return false;
        reverse(a, a);
        invertUpper(a, n);
        return true;
    }

    /** {@code to} = {@code from} with its rows and columns reversed (the flat array reversed); may be the same array. */
    private static void reverse(double[] from, double[] to) {
        int last = from.length - 1;
        for (int i = 0, j = last; i <= j; i++, j--) {
            double a = from[i], b = from[j];
            to[i] = b;
            to[j] = a;
        }
    }

    /**
     * Overwrites symmetric {@code a[n x n]} with its lower Cholesky factor L ({@code A = L Lᵀ}, the
     * upper triangle zeroed; only the lower triangle of A is read); false if a pivot is not positive.
     * Row by row (Cholesky–Banachiewicz), so every inner product runs along two rows.
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
     * Overwrites upper-triangular {@code r[n x n]} (positive diagonal) with its inverse, itself upper
     * triangular. Solves {@code R X = I} from the last row up: row i of X is
     * {@code (eᵢ − Σ_{k>i} R[i][k] X[k]) / R[i][i]}, which needs row i of R and the rows of X
     * below it, so each row is overwritten once it is solved; every update runs along a row.
     */
    static void invertUpper(double[] r, int n) {
        double[] ri = new double[n]; // row i of R, while row i of X takes its place
        for (int i = n - 1; i >= 0; i--) {
            int row = i * n;
            System.arraycopy(r, row + i, ri, i, n - i);
            Arrays.fill(r, row + i, row + n, 0.0);
            r[row + i] = 1.0;
            for (int k = i + 1; k < n; k++) {
                double rik = ri[k];
                if (rik == 0.0) continue;
                int rk = k * n;
                for (int j = k; j < n; j++) r[row + j] -= rik * r[rk + j];
            }
            double inv = 1.0 / ri[i];
            for (int j = i; j < n; j++) r[row + j] *= inv;
        }
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
