package dev.whittle.compress.quantize;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.optim.Adam;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Weight sharing, the "trained quantization" of Deep Compression (Han et al. 2016): the nonzero
 * weights of each Linear and Conv2d are clustered by 1-D k-means (linear start) into k shared
 * values, and the shared values are then fine-tuned, each by the sum of its weights' gradients,
 * with the assignments fixed. Pruned weights (0) take no part and stay 0.
 *
 * <p>The shared values are kept on each layer's INT8 grid ({@code s * q_k}, {@code s = max|c| /
 * 127}), so post-training quantization with per-tensor INT8 weights and round-to-nearest stores
 * exactly the {@code q_k} and the integer model computes what was fine-tuned. During fine-tuning
 * the forward pass uses the centroids rounded to the grid and the gradient passes the rounding
 * straight through (Bengio et al. 2013) to the unrounded centroids, so what is trained is what
 * runs (rounding only at the end measured the same accuracy, to 0.05 points). A centroid that rounds to 0 is dropped and its weights are pruned (masked); centroids
 * that round to the same value merge. Per-channel INT8, INT4, or folding batch norms first would
 * each round the shared values again and lose the exact match.
 */
public final class WeightSharing {

    private WeightSharing() {}

    /**
     * How weights are shared and fine-tuned.
     *
     * @param clusters          shared values per layer, 2 to 256 (before merges and the drop of 0)
     * @param clustersPerLayer  per layer index, a number of clusters other than {@code clusters}
     * @param finetuneEpochs    epochs of centroid fine-tuning (0: cluster and round only)
     * @param learningRate      Adam's rate for centroids, biases and batch-norm parameters
     * @param batchSize         samples per step
     * @param seed              the sample order of fine-tuning
     */
    public record Config(int clusters, Map<Integer, Integer> clustersPerLayer, int finetuneEpochs, float learningRate,
                         int batchSize, long seed) {

        public Config {
            checkClusters(clusters, "clusters");
            clustersPerLayer = Map.copyOf(clustersPerLayer);
            for (Map.Entry<Integer, Integer> e : clustersPerLayer.entrySet()) {
                if (e.getKey() < 0) throw new IllegalArgumentException("a layer index cannot be negative, got " + e.getKey());
                checkClusters(e.getValue(), "clusters of layer " + e.getKey());
            }
            if (finetuneEpochs < 0) throw new IllegalArgumentException("fine-tuning epochs cannot be negative, got " + finetuneEpochs);
            if (!(learningRate > 0f) || Float.isInfinite(learningRate)) {
                throw new IllegalArgumentException("learning rate must be positive and finite, got " + learningRate);
            }
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }

        /**
         * 16 shared values per layer (4-bit indices) and 1 epoch at 1e-3, batches of 128. Measured on
         * Fashion-MNIST: 16 values lose 0.8 (lenet-300-100) and 1.0 (lenet5) points before fine-tuning,
         * and one epoch wins them back; at 1e-3 the epoch recovers up to 1.1 points more than at 1e-4
         * with 4 or 8 values, and no less with 16 or 32.
         */
        public static Config defaults() {
            return new Config(16, Map.of(), 1, 1e-3f, 128, 0L);
        }

        public Config withClusters(int k) {
            return new Config(k, clustersPerLayer, finetuneEpochs, learningRate, batchSize, seed);
        }

        public Config withClustersPerLayer(Map<Integer, Integer> perLayer) {
            return new Config(clusters, perLayer, finetuneEpochs, learningRate, batchSize, seed);
        }

        public Config withFineTuning(int epochs, float rate) {
            return new Config(clusters, clustersPerLayer, epochs, rate, batchSize, seed);
        }

        public Config withSeed(long s) {
            return new Config(clusters, clustersPerLayer, finetuneEpochs, learningRate, batchSize, s);
        }

        /** The clusters of layer {@code index}. */
        public int clustersOf(int index) {
            return clustersPerLayer.getOrDefault(index, clusters);
        }

        private static void checkClusters(int k, String what) {
            if (k < 2 || k > 256) throw new IllegalArgumentException(what + " must be 2 to 256, got " + k);
        }
    }

    /**
     * The shared model (a copy), and per weighted layer index its shared values ({@code s * q_k},
     * ascending, 0 not among them); a layer whose weights are all 0 has none.
     */
    public record Result(Sequential model, Map<Integer, float[]> codebooks, List<EpochStats> epochs) {}

    /**
     * Shares the weights of a copy of {@code model} and fine-tunes the shared values on
     * {@code train} (which may be null without fine-tuning); {@code model} is not changed.
     *
     * @throws BadInputException if {@code clustersPerLayer} names a layer that is not a Linear or Conv2d
     */
    public static Result share(Sequential model, Dataset train, Config config, TrainingListener listener) throws BadInputException {
        if (config.finetuneEpochs() > 0 && train == null) throw new IllegalArgumentException("fine-tuning needs training data");
        checkLayers(model, config);
        Sequential shared = model.copy();
        List<Codebook> books = new ArrayList<>();
        List<Layer> layers = shared.layers();
        for (int i = 0; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof WeightedLayer w)) continue;
            Codebook book = Codebook.cluster(i, w.weight(), config.clustersOf(i));
            if (book == null) continue;
            book.snap();
            book.write();
            books.add(book);
        }
        List<EpochStats> epochs = config.finetuneEpochs() == 0 ? List.of() : fineTune(shared, books, train, config, listener);
        Map<Integer, float[]> codebooks = new LinkedHashMap<>();
        for (Codebook book : books) if (book.values().length > 0) codebooks.put(book.layer(), book.values());
        return new Result(shared, Collections.unmodifiableMap(codebooks), epochs);
    }

    private static void checkLayers(Sequential model, Config config) throws BadInputException {
        Set<Integer> weighted = new TreeSet<>();
        for (int i = 0; i < model.layers().size(); i++) if (model.layers().get(i) instanceof WeightedLayer) weighted.add(i);
        for (int i : new TreeSet<>(config.clustersPerLayer().keySet())) {
            if (weighted.contains(i)) continue;
            String what = i < model.layers().size() ? "a " + model.layers().get(i).getClass().getSimpleName() : "not in the model";
            throw new BadInputException("clusters for layer " + i + ": layer " + i + " is " + what
                    + ", not a Linear or Conv2d (those are layers " + weighted + ")");
        }
    }

    /**
     * Han et al.'s fine-tuning, shaped as {@link Trainer#fit}: before each step the weights get
     * their centroids rounded to the grid; after the backward pass each centroid's gradient is its
     * weights' summed gradient; Adam then moves the centroids and every parameter that is not a
     * shared weight (biases, batch norm). The centroids are rounded for good at the end.
     */
    private static List<EpochStats> fineTune(Sequential model, List<Codebook> books, Dataset train, Config config,
                                             TrainingListener listener) {
        Set<Parameter> sharedWeights = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Layer l : model.layers()) if (l instanceof WeightedLayer w) sharedWeights.add(w.weight());
        List<Parameter> free = new ArrayList<>();
        for (Parameter p : model.parameters()) if (!sharedWeights.contains(p)) free.add(p);
        for (Codebook book : books) free.add(book.centroids());
        Adam opt = Adam.adam(free, config.learningRate(), 0f);
        Rng shuffle = new Rng(config.seed() ^ 0x9E3779B97F4A7C15L);
        int n = train.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int bs = Math.min(config.batchSize(), n);
        int batches = Trainer.batchesPerEpoch(n, bs);
        int used = bs > 1 && n % bs == 1 ? n - 1 : n;
        Batch batch = new Batch(train, bs);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        int classes = model.outputShape()[0];
        List<EpochStats> history = new ArrayList<>();
        for (int epoch = 0; epoch < config.finetuneEpochs(); epoch++) {
            shuffle.shuffle(order);
            long start = System.nanoTime();
            double lossSum = 0;
            long correct = 0;
            for (int b = 0; b < batches; b++) {
                int from = b * bs, count = Math.min(bs, used - from);
                Tensor x = batch.fill(train, order, from, count);
                int[] labels = batch.labels();
                for (Codebook book : books) book.write(Codebook.snapped(book.centroids().value().data()));
                model.zeroGrad();
                Tensor logits = model.forward(x, true);
                lossSum += (double) loss.forward(logits, labels) * count;
                float[] z = logits.data();
                for (int i = 0; i < count; i++) if (Evaluator.argmax(z, i * classes, classes) == labels[i]) correct++;
                model.backward(loss.backward());
                for (Codebook book : books) book.gatherGradient();
                opt.step();
                listener.onBatch(epoch, b, batches);
            }
            EpochStats stats = new EpochStats(epoch + 1, config.learningRate(), lossSum / used, (double) correct / used,
                    Double.NaN, Double.NaN, (System.nanoTime() - start) / 1e9);
            history.add(stats);
            listener.onEpoch(stats);
        }
        for (Codebook book : books) {
            book.snap();
            book.write();
        }
        return history;
    }
}
