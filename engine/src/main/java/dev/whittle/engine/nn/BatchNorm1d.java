package dev.whittle.engine.nn;

/**
 * Batch normalisation of {@code [batch, features]} activations, one mean and variance per feature
 * over the batch: PyTorch's {@code nn.BatchNorm1d} (Ioffe and Szegedy 2015); see {@link BatchNorm}.
 */
public final class BatchNorm1d extends BatchNorm {

    public BatchNorm1d(int features) {
        super(new int[] {features});
    }
}
