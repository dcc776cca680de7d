package dev.whittle.engine.train;

/** Progress callbacks of {@link Trainer}; both default to doing nothing. */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {};

    /** After each mini-batch of epoch {@code epoch} (0-based). */
    default void onBatch(int epoch, int batch, int batches) {}

    /** After each epoch's evaluation. */
    default void onEpoch(EpochStats stats) {}
}
