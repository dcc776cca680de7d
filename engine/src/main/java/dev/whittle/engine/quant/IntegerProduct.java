package dev.whittle.engine.quant;

import dev.whittle.kernels.CsrMatrix;
import dev.whittle.kernels.Int4Kernels;
import dev.whittle.kernels.Int8Kernels;
import dev.whittle.kernels.Int8Requantization;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.SparseKernels;

/**
 * The matrix product shared by {@link QuantizedLinear} and {@link QuantizedConv2d}: rows of input
 * {@code x[m x K]} times the quantized weights {@code W[N x K]} transposed, plus bias, with an
 * optional fused ReLU, into {@code y[m x N]}, on the integer kernels.
 *
 * <pre>
 *   INT8 in, INT8 out    y = requantize(sum (x - z_x) w + b_q)          (Jacob et al. 2018)
 *   INT8 in, FP32 out    y = s_x s_w[j] (sum (x - z_x) w + b_q)         (the model's last layer)
 *   FP32 in (W4)         y = sum_g s_w[j][g] sum_{p in g} w x + b
 *   FP32 in (W4A8)       each group of x quantized to int8 at run time, then as above in integers
 * </pre>
 *
 * The int32 bias is {@code b_q[j] = rint(b[j] / (s_x s_w[j]))}: the float bias at the
 * accumulator's scale, so adding it is exact integer arithmetic.
 *
 * <p><b>Pruned INT8 weights.</b> When few enough weights are nonzero, the accumulators come from
 * the sparse kernels instead: the weights' nonzeros as floats ({@link CsrMatrix}) times the input
 * centred on its zero point ({@code q - z_x}, as floats). Every partial sum is an integer below
 * {@code 512 * 127 * 255 < 2^24} when no row has more than 512 nonzeros, so the float sums are the
 * int32 accumulators exactly, and the epilogue is the integer kernels' own: the output is the same
 * bit for bit, only faster. For the same reason a dense layer with K of at most 512 runs at batch 1
 * as a float GEMV of its int8 weights widened in registers ({@link Int8Kernels#gemvWidened}): on
 * LeNet-5's small fully connected layers (K = 50 to 300) the INT8 GEMV's per-call set-up cost more
 * than the products.
 */
final class IntegerProduct {

    private static final Int8Kernels INT8 = Kernels.int8();
    private static final Int4Kernels INT4 = Kernels.int4();
    private static final SparseKernels SPARSE = Kernels.sparse();
    private static final QuantKernels QUANT = Kernels.quant();
    /**
     * Below this density pruned INT8 weights run on the sparse kernels at batch 1. The dense INT8
     * GEMV streams a byte a weight, so sparse pays later than against FP32's four bytes
     * ({@link SparseKernels#BREAK_EVEN_DENSITY_GEMV}). Measured 2026-11-28 (one thread, the dense
     * INT8 kernel against centring + spmv + the integer epilogue, median of 7 interleaved rounds,
     * a host loaded by other jobs, so only the crossings are worth reading): 300x784 sparse/dense
     * 0.22, 0.66, 0.76, 1.61 at density 0.03, 0.05, 0.08, 0.12; 120x400 0.63, 0.76, 1.01, 1.04;
     * 100x300 about 1 already at 0.03 (too small for either to matter).
     */
    static final double SPARSE_INT8_GEMV_DENSITY = 0.08;
    /**
     * Below this density pruned INT8 weights run on the sparse kernels for a batch. Same
     * measurement at batch 64: 300x784 sparse/dense 0.24, 0.43, 0.61 at density 0.2, 0.3, 0.4;
     * 120x400 0.57, 0.80, 1.16; 100x300 0.97, 1.07, 0.93.
     */
    static final double SPARSE_INT8_GEMM_DENSITY = 0.3;

    final QuantizedWeights weights;
    final float[] bias;
    final ActivationMode activations;
    final QuantParams input;
    final QuantParams output;
    final boolean relu;
    /** The input's and output's (scale, zero point), unpacked once: the forward pass reads them per call. */
    final float inputScale, outputScale;
    final int inputZeroPoint, outputZeroPoint;
    private final Int8Requantization requantization;
    private final int[] int32Bias;
    private final float[] outputScales;
    /** The INT8 weights' nonzeros as floats, when pruned enough for the sparse kernels; else null. */
    private final CsrMatrix sparse;
    /** The INT8 weights {@code [N x K]} for the batch-1 product of a short K (exact sums in float); else null. */
    private final byte[] shortKWeights;
    private float[] centred = new float[0];
    private float[] sums = new float[0];

    /**
     * @param input  the input's quantization (INT8 activations only), per tensor
     * @param output the output's quantization when the next layer takes int8 (INT8 activations
     *               only), or null for FP32 output
     */
    IntegerProduct(QuantizedWeights weights, float[] bias, ActivationMode activations, QuantParams input,
                   QuantParams output, boolean relu) {
        int n = weights.rows();
        if (bias.length != n) throw new IllegalArgumentException(n + " output channels but " + bias.length + " biases");
        if (weights.bits() == 8 && activations != ActivationMode.INT8) {
            throw new IllegalArgumentException("INT8 weights run with INT8 activations, not " + activations.label());
        }
        if (weights.bits() == 4 && activations == ActivationMode.INT8) {
            throw new IllegalArgumentException("INT4 weights run with fp32 or int8-dynamic activations");
        }
        if (activations == ActivationMode.INT8) {
            if (input == null || input.granularity() != QuantParams.Granularity.PER_TENSOR) {
                throw new IllegalArgumentException("INT8 activations need a per-tensor input quantization");
            }
            if (output != null && output.granularity() != QuantParams.Granularity.PER_TENSOR) {
                throw new IllegalArgumentException("the output quantization must be per tensor");
            }
        } else if (input != null || output != null) {
            throw new IllegalArgumentException("only INT8 activations have an input or output quantization");
        }
        this.weights = weights;
        this.bias = bias.clone();
        this.activations = activations;
        this.input = input;
        this.output = output;
        this.relu = relu;
        this.inputScale = input == null ? 0f : input.scales()[0];
        this.inputZeroPoint = input == null ? 0 : input.zeroPoints()[0];
        this.outputScale = output == null ? 0f : output.scales()[0];
        this.outputZeroPoint = output == null ? 0 : output.zeroPoints()[0];
        if (activations != ActivationMode.INT8) {
            requantization = null;
            int32Bias = null;
            outputScales = null;
            sparse = null;
            shortKWeights = null;
            return;
        }
        sparse = sparseWeights(weights);
        // a layer sparse enough for the sparse kernels at batch 1 never takes the widened GEMV: no copy for it
        boolean sparseAtBatch1 = sparse != null && sparse.density() < SPARSE_INT8_GEMV_DENSITY;
        shortKWeights = weights.bits() == 8 && weights.cols() <= QuantizedConv2d.EXACT_FLOAT_K && !sparseAtBatch1 ? weights.int8Values() : null;
        float sx = input.scales()[0];
        int32Bias = new int[n];
        float[] ws = new float[n];
        for (int j = 0; j < n; j++) {
            ws[j] = weights.rowScale(j);
            double q = Math.rint(bias[j] / ((double) sx * ws[j]));
            int32Bias[j] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q));
        }
        if (output != null) {
            requantization = Int8Requantization.of(sx, ws, output.scales()[0], output.zeroPoints()[0], int32Bias, relu);
            outputScales = null;
        } else {
            requantization = null;
            outputScales = new float[n];
            for (int j = 0; j < n; j++) outputScales[j] = sx * ws[j];
        }
    }

    /** The nonzeros of pruned INT8 weights, if sparse enough to pay and no row is too long for exact float sums. */
    private static CsrMatrix sparseWeights(QuantizedWeights w) {
        int rows = w.rows(), cols = w.cols();
        if (w.nonzeros() >= SPARSE_INT8_GEMM_DENSITY * rows * cols) return null;
        byte[] q = w.int8Values();
        float[] f = new float[q.length];
        for (int r = 0; r < rows; r++) {
            int n = 0;
            for (int c = r * cols; c < (r + 1) * cols; c++) {
                f[c] = q[c];
                if (q[c] != 0) n++;
            }
            if (n > QuantizedConv2d.EXACT_FLOAT_K) return null;
        }
        return CsrMatrix.of(f, 0, rows, cols);
    }

    /** Whether the output is int8 (for the next layer) rather than FP32. */
    boolean int8Output() {
        return output != null;
    }

    /** {@code y[m x N] = x[m x K] . W^T}, x and y in the forms above (only the matching arrays are used). */
    void multiply(int m, byte[] x8, float[] xf, int xOff, byte[] y8, float[] yf, int yOff) {
        switch (activations) {
            case INT8 -> {
                int zx = inputZeroPoint;
                if (sparse != null && sparse.density() < (m == 1 ? SPARSE_INT8_GEMV_DENSITY : SPARSE_INT8_GEMM_DENSITY)) {
                    multiplySparse(m, x8, xOff, y8, yf, yOff);
                } else if (m == 1 && shortKWeights != null) {
                    multiplyExactFloat(x8, xOff, y8, yf, yOff);
                } else if (requantization != null) INT8.gemm(m, x8, xOff, zx, weights.int8(), requantization, y8, yOff);
                else INT8.gemmFloat(m, x8, xOff, zx, weights.int8(), int32Bias, outputScales, relu, yf, yOff);
            }
            case FLOAT -> INT4.gemm(m, xf, xOff, weights.int4(), bias, relu, yf, yOff);
            case INT8_DYNAMIC -> INT4.gemmA8(m, xf, xOff, weights.int4(), bias, relu, yf, yOff);
        }
    }

    /** The sparse path (see the class comment): exact integer sums in float, then the integer epilogue. */
    private void multiplySparse(int m, byte[] x8, int xOff, byte[] y8, float[] yf, int yOff) {
        centre(m, x8, xOff);
        if (m == 1) SPARSE.spmv(sparse, centred, 0, sums, 0);
        else SPARSE.spmmNT(m, centred, 0, sparse, null, false, sums, 0);
        epilogue(m, y8, yf, yOff);
    }

    /** A short K at batch 1: the GEMV of the weights as floats, exact integer sums (see the class comment). */
    private void multiplyExactFloat(byte[] x8, int xOff, byte[] y8, float[] yf, int yOff) {
        centre(1, x8, xOff);
        INT8.gemvWidened(weights.rows(), weights.cols(), shortKWeights, 0, centred, 0, sums, 0);
        epilogue(1, y8, yf, yOff);
    }

    /** {@code m} rows of int8 input centred on their zero point, as floats, into {@code centred}. */
    private void centre(int m, byte[] x8, int xOff) {
        int k = weights.cols(), n = weights.rows();
        if (centred.length < m * k) centred = new float[m * k];
        if (sums.length < m * n) sums = new float[m * n];
        QUANT.dequantize(x8, xOff, m * k, 1f, inputZeroPoint, QuantRange.INT8, centred, 0);
    }

    /** The integer kernels' epilogue applied to the exact sums in {@code sums}. */
    private void epilogue(int m, byte[] y8, float[] yf, int yOff) {
        int n = weights.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int acc = (int) sums[i * n + j];
                if (requantization != null) {
                    y8[yOff + i * n + j] = (byte) requantization.requantize(acc, j);
                } else {
                    float v = (acc + int32Bias[j]) * outputScales[j];
                    yf[yOff + i * n + j] = relu ? Math.max(v, 0f) : v;
                }
            }
        }
    }

    /** Checks that x is in the form this product takes (a wiring error otherwise). */
    void checkInput(Activations x, int sampleSize) {
        if (x.sampleSize() != sampleSize) {
            throw new IllegalArgumentException("input of " + x.sampleSize() + " values per sample, expected " + sampleSize);
        }
        if (activations == ActivationMode.INT8) {
            if (!x.quantized() || x.scale() != inputScale || x.zeroPoint() != inputZeroPoint) {
                throw new IllegalStateException("expected int8 activations with scale " + inputScale + " and zero point "
                        + inputZeroPoint);
            }
        } else if (x.quantized()) {
            throw new IllegalStateException("expected fp32 activations");
        }
    }

    String precision() {
        String acts = switch (activations) {
            case INT8 -> "int8 activations";
            case FLOAT -> "fp32 activations";
            case INT8_DYNAMIC -> "int8 activations per group at run time";
        };
        return weights.describe() + ", " + acts;
    }
}
