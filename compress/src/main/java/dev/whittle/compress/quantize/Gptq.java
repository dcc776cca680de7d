package dev.whittle.compress.quantize;

import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;

/** Stub until GPTQ lands. */
final class Gptq {
    static QuantizedWeights quantize(float[] w, int rows, int cols, double[] h, int bits, Granularity g, int group, double damp, int block) {
        throw new UnsupportedOperationException("GPTQ is not built yet");
    }
}
