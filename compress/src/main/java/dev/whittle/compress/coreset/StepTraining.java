package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.optim.Optimizer;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;

/**
 * Training for a fixed number of optimizer steps rather than epochs. On a subset of ten images an
 * "epoch" is one step, so epochs would make the training budget depend on the subset's size;
 * steps keep it fixed, as the dataset-distillation literature does. Each pass over the subset
 * is a fresh seeded shuffle; a last partial batch is skipped (the next pass starts anew).
 */
public final class StepTraining {

    /** The largest batch: a subset of up to this many samples is trained on whole at every step. */
    public static final int MAX_BATCH = 256;

    private StepTraining() {}

    /** The batch size for a subset of {@code n} samples: {@code min(256, n)}. */
    public static int batchSize(int n) {
        return Math.max(1, Math.min(MAX_BATCH, n));
    }

    /** Trains {@code model} in place for {@code steps} steps of Adam at {@code lr}, shuffling from {@code seed}. */
    public static void fit(Sequential model, Dataset data, long steps, float lr, long seed) {
        int n = data.size();
        if (n == 0) throw new IllegalArgumentException("nothing to train on");
        int bs = batchSize(n);
        TrainConfig config = TrainConfig.defaults().withLearningRate(lr).withSeed(seed);
        Optimizer opt = Trainer.optimizer(config, model.parameters());
        Rng shuffle = new Rng(seed ^ 0x9E3779B97F4A7C15L);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Batch batch = new Batch(data, bs);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        int pos = n;
        for (long s = 0; s < steps; s++) {
            if (pos + bs > n) {
                shuffle.shuffle(order);
                pos = 0;
            }
            Tensor x = batch.fill(data, order, pos, bs);
            pos += bs;
            model.zeroGrad();
            Tensor logits = model.forward(x, true);
            loss.forward(logits, batch.labels());
            model.backward(loss.backward());
            opt.step();
        }
    }
}
