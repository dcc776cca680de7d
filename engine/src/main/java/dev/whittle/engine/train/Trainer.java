package dev.whittle.engine.train;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Profile;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.optim.Adam;
import dev.whittle.engine.optim.Optimizer;
import dev.whittle.engine.optim.Sgd;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop: mini-batches in a freshly shuffled order each epoch, one optimizer step per
 * batch, evaluation on the test split after each epoch. Everything random comes from the
 * config's seed, so a run is bit-reproducible whatever the thread count.
 */
public final class Trainer {

    private Trainer() {}

    /** Builds the optimizer the config names over {@code params}. */
    public static Optimizer optimizer(TrainConfig c, List<Parameter> params) {
        return switch (c.optimizer()) {
            case SGD -> new Sgd(params, c.learningRate(), c.momentum(), c.nesterov(), c.weightDecay());
            case ADAM -> Adam.adam(params, c.learningRate(), c.weightDecay());
            case ADAMW -> Adam.adamW(params, c.learningRate(), c.weightDecay());
        };
    }

    /**
     * Optimizer steps in one epoch over {@code samples} samples: batches of {@code batchSize}, a last
     * batch of one sample dropped (batch norm cannot take statistics from a single value, as in PyTorch).
     */
    public static int batchesPerEpoch(int samples, int batchSize) {
        int bs = Math.min(batchSize, samples);
        int used = bs > 1 && samples % bs == 1 ? samples - 1 : samples;
        return (used + bs - 1) / bs;
    }

    /** Trains {@code model} in place; evaluates on {@code test} after every epoch (if not null). */
    public static List<EpochStats> fit(Sequential model, Dataset train, Dataset test, TrainConfig config,
                                       TrainingListener listener) {
        Optimizer opt = optimizer(config, model.parameters());
        Rng shuffle = new Rng(config.seed() ^ 0x9E3779B97F4A7C15L);
        int n = train.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int bs = Math.min(config.batchSize(), n);
        // A last batch of one sample is dropped: batch norm cannot take batch statistics from a
        // single value (PyTorch raises), and one sample's step is noise anyway.
        int used = bs > 1 && n % bs == 1 ? n - 1 : n;
        Batch batch = new Batch(train, bs);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        int classes = model.outputShape()[0];
        int batches = batchesPerEpoch(n, bs);
        Profile profile = model.profile();
        List<EpochStats> history = new ArrayList<>();
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            float lr = config.schedule().rate(config.learningRate(), epoch, config.epochs());
            opt.setLearningRate(lr);
            shuffle.shuffle(order);
            long start = System.nanoTime();
            double lossSum = 0;
            long correct = 0;
            for (int b = 0; b < batches; b++) {
                int from = b * bs;
                int count = Math.min(bs, used - from);
                long t0 = System.nanoTime();
                Tensor x = batch.fill(train, order, from, count);
                int[] labels = batch.labels();
                model.zeroGrad();
                long t1 = System.nanoTime();
                Tensor logits = model.forward(x, true);
                long t2 = System.nanoTime();
                lossSum += (double) loss.forward(logits, labels) * count;
                float[] z = logits.data();
                for (int i = 0; i < count; i++) if (Evaluator.argmax(z, i * classes, classes) == labels[i]) correct++;
                Tensor gradLogits = loss.backward();
                long t3 = System.nanoTime();
                model.backward(gradLogits);
                long t4 = System.nanoTime();
                opt.step();
                if (profile != null) {
                    profile.add(Profile.Step.BATCH, t1 - t0);
                    profile.add(Profile.Step.LOSS, t3 - t2);
                    profile.add(Profile.Step.OPTIMIZER, System.nanoTime() - t4);
                }
                listener.onBatch(epoch, b, batches);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            model.setProfile(null); // the profile covers training steps only
            Evaluation eval = test == null ? null : Evaluator.evaluate(model, test, 256);
            model.setProfile(profile);
            EpochStats stats = new EpochStats(epoch + 1, lr, lossSum / used, (double) correct / used,
                    eval == null ? Double.NaN : eval.meanLoss(), eval == null ? Double.NaN : eval.accuracy(), seconds);
            history.add(stats);
            listener.onEpoch(stats);
        }
        return history;
    }
}
