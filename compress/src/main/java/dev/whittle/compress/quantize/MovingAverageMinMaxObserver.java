package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.util.Objects;

/**
 * A min-max observer that follows an exponential moving average of each batch's min and max
 * rather than the extremes of all batches, as PyTorch's {@code MovingAverageMinMaxObserver}
 * (averaging constant 0.01 by default; Jacob et al., 2018, use such averages for activation
 * ranges): the first batch sets the range, each later one moves it by
 * {@code min += c * (batchMin - min)}, likewise the max. One outlying batch then moves the range
 * by only a fraction {@code c} of its excess.
 */
public final class MovingAverageMinMaxObserver implements Observer {

    /** PyTorch's default averaging constant. */
    public static final float DEFAULT_AVERAGING_CONSTANT = 0.01f;

    private final float averagingConstant;
    private float min;
    private float max;
    private long count;

    /** Averaging constant {@link #DEFAULT_AVERAGING_CONSTANT}. */
    public MovingAverageMinMaxObserver() {
        this(DEFAULT_AVERAGING_CONSTANT);
    }

    /** @param averagingConstant the weight {@code c} of each new batch, in (0, 1] (1 keeps the last batch's range) */
    public MovingAverageMinMaxObserver(float averagingConstant) {
        if (!(averagingConstant > 0f && averagingConstant <= 1f)) {
            throw new IllegalArgumentException("averaging constant must be in (0, 1], got " + averagingConstant);
        }
        this.averagingConstant = averagingConstant;
    }

    /** NaN and infinite values are a model error and are refused; an empty batch changes nothing. */
    @Override
    public void observe(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (n == 0) return;
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) throw new IllegalArgumentException(v + " in the activations being calibrated");
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (count == 0) {
            min = lo;
            max = hi;
        } else {
            // in double: batchMin - min can overflow a float when both are near the float limits
            min = (float) (min + averagingConstant * ((double) lo - min));
            max = (float) (max + averagingConstant * ((double) hi - max));
        }
        count += n;
    }

    /** The averaged min. */
    public float min() {
        return min;
    }

    /** The averaged max. */
    public float max() {
        return max;
    }

    /** Values seen so far. */
    public long count() {
        return count;
    }

    /** The averaged range: {@code [min, max]} (asymmetric) or {@code [-a, a]}, a = max(|min|, |max|) (symmetric). */
    @Override
    public QuantParams int8(boolean symmetric) {
        if (count == 0) throw new IllegalStateException("nothing observed");
        if (!symmetric) return Quantization.affine(QuantRange.INT8, min, max);
        float a = Math.max(Math.abs(min), Math.abs(max));
        return QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0);
    }
}
