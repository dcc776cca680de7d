package dev.whittle.engine.nn;

import java.util.Arrays;

/**
 * Batch normalisation of {@code [batch, c, h, w]} activations, one mean and variance per channel
 * over the batch and all positions: PyTorch's {@code nn.BatchNorm2d} (Ioffe and Szegedy 2015);
 * see {@link BatchNorm}.
 */
public final class BatchNorm2d extends BatchNorm {

    /** Batch norm for inputs of per-sample shape {@code [channels, height, width]}. */
    public BatchNorm2d(int[] inputShape) {
        super(check(inputShape));
    }

    private static int[] check(int[] shape) {
        if (shape.length != 3) {
            throw new IllegalArgumentException("BatchNorm2d needs a [channels, height, width] input, got " + Arrays.toString(shape));
        }
        return shape;
    }
}
