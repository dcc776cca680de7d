package dev.whittle.engine.train;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.Model;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;

/** Runs a model over a dataset in evaluation mode: accuracy, mean loss, confusion matrix. */
public final class Evaluator {

    private Evaluator() {}

    public static Evaluation evaluate(Model model, Dataset data, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize); // 0 would never advance
        int n = data.size();
        int classes = model.outputShape()[0];
        int[][] confusion = new int[Math.max(classes, data.numClasses())][Math.max(classes, data.numClasses())];
        if (n == 0) return new Evaluation(0, 0, 0, confusion);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Batch batch = new Batch(data, Math.min(batchSize, n));
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        double lossSum = 0;
        int correct = 0;
        for (int from = 0; from < n; from += batchSize) {
            int count = Math.min(batchSize, n - from);
            Tensor x = batch.fill(data, order, from, count);
            Tensor logits = model.predict(x);
            int[] labels = batch.labels();
            lossSum += (double) loss.forward(logits, labels) * count;
            float[] z = logits.data();
            for (int i = 0; i < count; i++) {
                int predicted = argmax(z, i * classes, classes);
                confusion[labels[i]][predicted]++;
                if (predicted == labels[i]) correct++;
            }
        }
        return new Evaluation(n, (double) correct / n, lossSum / n, confusion);
    }

    /** The index of the largest of {@code z[off..off+n)} (the first on ties). */
    public static int argmax(float[] z, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (z[off + j] > z[off + best]) best = j;
        return best;
    }
}
