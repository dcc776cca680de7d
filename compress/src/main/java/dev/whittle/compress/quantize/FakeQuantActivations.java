package dev.whittle.compress.quantize;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * Quantization-aware training of a layer's input activations: a moving-average min-max range
 * (PyTorch's default for QAT, averaging constant 0.01) is updated on every training batch, and the
 * values pass through {@code dequantize(quantize(x))} with it; the gradient passes where x lay
 * inside the range and is 0 where it was clipped (the straight-through estimator with clipping).
 * The final range becomes the quantized layer's input quantization.
 */
final class FakeQuantActivations implements Layer {

    private static final QuantKernels QUANT = Kernels.quant();

    private final int[] shape;
    private final boolean symmetric;
    private final MovingRange range = new MovingRange();
    private QuantParams params;
    private Tensor output;
    private Tensor gradInput;
    private float lo, hi;
    private Tensor input;
    private byte[] codes = new byte[0];

    FakeQuantActivations(int[] shape, boolean symmetric, float initialMin, float initialMax) {
        this.shape = shape.clone();
        this.symmetric = symmetric;
        range.min = initialMin;
        range.max = initialMax;
        range.started = true;
        updateParams();
    }

    /** The input quantization as trained so far. */
    QuantParams params() {
        return params;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (training) {
            range.observe(x.data(), x.size());
            updateParams();
        }
        input = x;
        int n = x.size();
        if (output == null || output.size() != n) output = Tensor.zeros(x.shape());
        if (codes.length < n) codes = new byte[n];
        float s = params.scales()[0];
        int z = params.zeroPoints()[0];
        QUANT.quantize(x.data(), 0, n, s, z, QuantRange.INT8, codes, 0);
        QUANT.dequantize(codes, 0, n, s, z, QuantRange.INT8, output.data(), 0);
        lo = (QuantRange.INT8.min() - z) * s;
        hi = (QuantRange.INT8.max() - z) * s;
        return output.reshape(x.shape());
    }

    private void updateParams() {
        if (symmetric) {
            float a = Math.max(Math.abs(range.min), Math.abs(range.max));
            params = QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0);
        } else {
            params = Quantization.affine(QuantRange.INT8, range.min, range.max);
        }
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int n = gradOut.size();
        if (gradInput == null || gradInput.size() != n) gradInput = Tensor.zeros(gradOut.shape());
        float[] g = gradOut.data(), x = input.data(), d = gradInput.data();
        for (int i = 0; i < n; i++) d[i] = x[i] >= lo && x[i] <= hi ? g[i] : 0f;
        return gradInput.reshape(gradOut.shape());
    }

    @Override
    public int[] inputShape() {
        return shape.clone();
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return "fakequant";
    }

    /** Moving-average min and max of batch ranges. */
    private static final class MovingRange {
        static final float AVERAGING = 0.01f;
        float min, max;
        boolean started;

        void observe(float[] x, int n) {
            float a = Float.POSITIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                a = Math.min(a, x[i]);
                b = Math.max(b, x[i]);
            }
            if (!started) {
                min = a;
                max = b;
                started = true;
            } else {
                min += AVERAGING * (a - min);
                max += AVERAGING * (b - max);
            }
        }
    }
}
