package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.optim.Optimizer;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;

/**
 * Forgetting scores (Toneva et al. 2019): train a model on the whole training split and, as each
 * mini-batch goes through the forward pass, record for every example in it whether it was
 * classified correctly; the score is the number of forgetting events (see
 * {@link ForgettingCounter}). The paper trains to convergence; a few epochs already separate
 * the never-forgotten examples from the rest, and that is what fits on two cores.
 */
public final class ForgettingScores {

    private ForgettingScores() {}

    /** Trains {@code model} in place for {@code epochs} epochs (Adam, batch 128, the given lr) and returns each example's score. */
    public static double[] compute(Sequential model, Dataset train, int epochs, float lr, long seed) {
        int n = train.size();
        int bs = Math.min(128, n);
        TrainConfig config = TrainConfig.defaults().withLearningRate(lr).withSeed(seed);
        Optimizer opt = Trainer.optimizer(config, model.parameters());
        Rng shuffle = new Rng(seed ^ 0x9E3779B97F4A7C15L);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Batch batch = new Batch(train, bs);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        ForgettingCounter counter = new ForgettingCounter(n);
        int classes = model.outputShape()[0];
        for (int e = 0; e < epochs; e++) {
            shuffle.shuffle(order);
            for (int from = 0; from < n; from += bs) {
                int count = Math.min(bs, n - from);
                if (count == 1 && n > 1) continue; // batch statistics need two samples; one sample's step is noise
                Tensor x = batch.fill(train, order, from, count);
                int[] labels = batch.labels();
                model.zeroGrad();
                Tensor logits = model.forward(x, true);
                float[] z = logits.data();
                for (int i = 0; i < count; i++) {
                    counter.record(order[from + i], Evaluator.argmax(z, i * classes, classes) == labels[i]);
                }
                loss.forward(logits, labels);
                model.backward(loss.backward());
                opt.step();
            }
        }
        return counter.scores();
    }
}
