package dev.whittle.engine.train;

import dev.whittle.engine.optim.LearningRateSchedule;

/**
 * How to train: DESIGN.md's defaults are {@link #defaults()} (Adam, learning rate 1e-3, batch
 * 128, 10 epochs, seed 0).
 */
public record TrainConfig(int epochs, int batchSize, float learningRate, OptimizerKind optimizer,
                          float momentum, boolean nesterov, float weightDecay,
                          LearningRateSchedule schedule, long seed) {

    public enum OptimizerKind { SGD, ADAM, ADAMW }

    public TrainConfig {
        if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (!(learningRate > 0f) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + learningRate);
        }
    }

    public static TrainConfig defaults() {
        return new TrainConfig(10, 128, 1e-3f, OptimizerKind.ADAM, 0f, false, 0f, LearningRateSchedule.constant(), 0L);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(e, batchSize, learningRate, optimizer, momentum, nesterov, weightDecay, schedule, seed);
    }

    public TrainConfig withLearningRate(float lr) {
        return new TrainConfig(epochs, batchSize, lr, optimizer, momentum, nesterov, weightDecay, schedule, seed);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(epochs, batchSize, learningRate, optimizer, momentum, nesterov, weightDecay, schedule, s);
    }
}
