package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;

/**
 * Estimates the range to quantize a tensor's values to, from the values it takes over calibration
 * batches. Each batch is shown once through {@link #observe}; memory stays bounded however many
 * batches come. The result is one per-tensor int8 (scale, zero point).
 */
public interface Observer {

    /** Takes in one calibration batch's values {@code x[off .. off+n)}. */
    void observe(float[] x, int off, int n);

    /**
     * Per-tensor int8 parameters for what was seen: asymmetric (a range onto [-128, 127] with a
     * zero point; the range always includes 0, so 0 stays exact for padding and ReLU) or symmetric
     * ({@code [-a, a]} with zero point 0).
     *
     * @throws IllegalStateException if nothing was observed
     */
    QuantParams int8(boolean symmetric);
}
