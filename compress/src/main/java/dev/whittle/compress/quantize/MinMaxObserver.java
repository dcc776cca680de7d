package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * Watches the values a tensor takes over calibration batches and keeps the smallest and largest:
 * the plainest range estimate, in constant memory. Its quantization covers the whole range seen
 * (widened to include 0, so 0 stays exact for padding and ReLU).
 */
public final class MinMaxObserver implements Observer {

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;

    /** NaN and infinite values are a model error and are refused. */
    @Override
    public void observe(float[] x, int off, int n) {
        float lo = min, hi = max;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) throw new IllegalArgumentException(v + " in the activations being calibrated");
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        min = lo;
        max = hi;
        count += n;
    }

    public float min() {
        return min;
    }

    public float max() {
        return max;
    }

    /** Values seen so far. */
    public long count() {
        return count;
    }

    /** The range seen: {@code [min, max]} (asymmetric) or {@code [-a, a]}, a = max |x| (symmetric). */
    @Override
    public QuantParams int8(boolean symmetric) {
        if (count == 0) throw new IllegalStateException("nothing observed");
        if (!symmetric) return Quantization.affine(QuantRange.INT8, min, max);
        float a = Math.max(Math.abs(min), Math.abs(max));
        return QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0);
    }
}
