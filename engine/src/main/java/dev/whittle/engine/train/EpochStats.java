package dev.whittle.engine.train;

/**
 * One epoch's figures. {@code trainLoss} and {@code trainAccuracy} are running means over the
 * epoch's mini-batches in training mode; {@code seconds} covers the training steps only
 * (evaluation excluded).
 */
public record EpochStats(int epoch, float learningRate, double trainLoss, double trainAccuracy,
                         double testLoss, double testAccuracy, double seconds) {}
