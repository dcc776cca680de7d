package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;

/**
 * A layer with a weight, one row per output channel ({@code [out, in]} or {@code [out, in, k, k]}),
 * and a bias per output channel: what quantization, pruning and distillation work on.
 */
public sealed interface WeightedLayer extends Layer permits Linear, Conv2d {

    Parameter weight();

    Parameter bias();

    /** Output channels: the weight's rows. */
    default int outputChannels() {
        return weight().value().dim(0);
    }

    /** Inputs per output channel: {@code in}, or {@code in * k * k}. */
    default int inputsPerOutput() {
        return weight().value().size() / outputChannels();
    }
}
