package dev.whittle.compress.coreset;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;

/**
 * EL2N scores (Paul et al. 2021): the L2 norm of the error vector {@code softmax(f(x)) - onehot(y)}
 * of a network trained only briefly, averaged over networks from several seeds. Early in
 * training it already tells the examples the network finds hard from those it learns at once.
 * The paper scores at epoch 20 of 200; here "early" is a configurable number of epochs.
 */
public final class El2nScores {

    private El2nScores() {}

    /** Trains one {@code arch} model per seed {@code seed .. seed+seeds-1} for {@code epochs} epochs and averages the scores. */
    public static double[] compute(String arch, Dataset train, int epochs, int seeds, float lr, long seed) throws BadInputException {
        double[] sum = new double[train.size()];
        for (int s = 0; s < seeds; s++) {
            Sequential model = ArchSpec.build(arch, train.sampleShape(), seed + s);
            Trainer.fit(model, train, null, TrainConfig.defaults().withEpochs(epochs).withLearningRate(lr).withSeed(seed + s),
                    TrainingListener.NONE);
            double[] one = errorNorms(model, train);
            for (int i = 0; i < sum.length; i++) sum[i] += one[i];
        }
        for (int i = 0; i < sum.length; i++) sum[i] /= seeds;
        return sum;
    }

    /** {@code |softmax(f(x)) - onehot(y)|_2} of every example, the model in evaluation mode. */
    public static double[] errorNorms(Sequential model, Dataset data) {
        int n = data.size(), bs = 256, k = model.outputShape()[0];
        double[] out = new double[n];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Batch batch = new Batch(data, Math.max(1, Math.min(bs, n)));
        for (int from = 0; from < n; from += bs) {
            int count = Math.min(bs, n - from);
            float[] z = model.predict(batch.fill(data, order, from, count)).data();
            int[] labels = batch.labels();
            for (int i = 0; i < count; i++) out[from + i] = errorNorm(z, i * k, k, labels[i]);
        }
        return out;
    }

    static double errorNorm(float[] z, int off, int k, int label) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) max = Math.max(max, z[off + j]);
        double total = 0;
        for (int j = 0; j < k; j++) total += StrictMath.exp(z[off + j] - max);
        double sq = 0;
        for (int j = 0; j < k; j++) {
            double p = StrictMath.exp(z[off + j] - max) / total - (j == label ? 1 : 0);
            sq += p * p;
        }
        return Math.sqrt(sq);
    }
}
