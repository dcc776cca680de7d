package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.compress.coreset.ArrayDataset;
import dev.whittle.compress.prune.MagnitudePruning;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import dev.whittle.kernels.Parallel;
import dev.whittle.kernels.QuantParams.Granularity;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Weight sharing: the codebooks, the INT8 grid, the centroid gradient, fine-tuning and determinism. */
class WeightSharingTest {

    /** Samples of {@code shape} labelled by a random linear teacher over 3 classes. */
    static ArrayDataset teacher(int n, int[] shape, long seed) {
        int d = 1;
        for (int s : shape) d *= s;
        Rng rng = new Rng(seed);
        float[] w = new float[3 * d], x = new float[n * d];
        for (int i = 0; i < w.length; i++) w[i] = rng.normal();
        int[] y = new int[n];
        for (int s = 0; s < n; s++) {
            float[] z = new float[3];
            for (int j = 0; j < d; j++) {
                x[s * d + j] = rng.normal();
                for (int c = 0; c < 3; c++) z[c] += w[c * d + j] * x[s * d + j];
            }
            y[s] = Evaluator.argmax(z, 0, 3);
        }
        return new ArrayDataset("teacher", x, y, shape, 3);
    }

    static Sequential trained(String arch, ArrayDataset data, int epochs) throws BadInputException {
        Sequential m = ArchSpec.build(arch, data.sampleShape(), 1);
        Trainer.fit(m, data, null, TrainConfig.defaults().withEpochs(epochs).withLearningRate(3e-3f), TrainingListener.NONE);
        return m;
    }

    static Set<Float> distinctNonzero(float[] w) {
        Set<Float> s = new HashSet<>();
        for (float v : w) if (v != 0f) s.add(v);
        return s;
    }

    @Test
    void eachLayerHoldsAtMostKValuesAndItsPrunedZerosStayWhereTheyWere() throws BadInputException {
        ArrayDataset data = teacher(200, new int[] {1, 6, 6}, 1);
        Sequential model = trained("conv(4,3) relu flatten linear(12) relu linear(3)", data, 3);
        MagnitudePruning.prune(model, 0.5, MagnitudePruning.Scope.LAYER);
        Sequential before = model.copy();
        var r = WeightSharing.share(model, null, WeightSharing.Config.defaults().withClusters(4).withFineTuning(0, 1e-4f),
                TrainingListener.NONE);
        assertEquals(Set.of(0, 3, 5), r.codebooks().keySet());
        for (int i : r.codebooks().keySet()) {
            Parameter w = ((WeightedLayer) r.model().layers().get(i)).weight();
            Parameter w0 = ((WeightedLayer) before.layers().get(i)).weight();
            float[] book = r.codebooks().get(i);
            assertTrue(book.length <= 4 && book.length >= 2, "layer " + i + ": " + book.length + " values");
            for (int k = 1; k < book.length; k++) assertTrue(book[k - 1] < book[k], "ascending and distinct");
            Set<Float> values = distinctNonzero(w.value().data());
            assertEquals(values.size(), book.length);
            for (float v : book) assertTrue(values.contains(v));
            for (int j = 0; j < w.value().size(); j++) {
                if (!w0.mask()[j]) {
                    assertEquals(0f, w.value().data()[j]);
                    assertTrue(!w.mask()[j]);
                }
            }
        }
        // the caller's model is not touched
        for (int i = 0; i < model.layers().size(); i++) {
            for (int p = 0; p < model.layers().get(i).parameters().size(); p++) {
                assertArrayEquals(before.layers().get(i).parameters().get(p).value().data(),
                        model.layers().get(i).parameters().get(p).value().data());
            }
        }
    }

    @Test
    void perTensorInt8QuantizationStoresExactlyTheSharedValues() throws BadInputException {
        ArrayDataset data = teacher(300, new int[] {1, 6, 6}, 2);
        Sequential model = trained("conv(4,3) relu flatten linear(12) relu linear(3)", data, 3);
        for (int k : new int[] {2, 5, 16, 64}) {
            var r = WeightSharing.share(model, data, WeightSharing.Config.defaults().withClusters(k), TrainingListener.NONE);
            QuantizationConfig c = QuantizationConfig.int8().withWeights(Granularity.PER_TENSOR, 0).withCalibration("minmax", 50, 0);
            QuantizedModel q = PostTrainingQuantizer.quantize(r.model(), data, c);
            assertEquals(r.codebooks().keySet(), q.quantizedLayers().keySet());
            for (int i : r.codebooks().keySet()) {
                float[] w = ((WeightedLayer) r.model().layers().get(i)).weight().value().data();
                float[] book = r.codebooks().get(i);
                QuantizedWeights qw = PostTrainingQuantizer.roundToNearest(r.model().layers().get(i), c);
                float s = qw.scales()[0];
                byte[] ints = qw.int8Values();
                Set<Integer> qs = new HashSet<>(), expected = new HashSet<>();
                for (float v : book) {
                    expected.add(Math.round(v / s));
                    assertEquals(v, s * Math.round(v / s), "a shared value is on the grid");
                }
                for (int j = 0; j < ints.length; j++) {
                    assertEquals(w[j], qw.dequantized(j / qw.cols(), j % qw.cols()), "layer " + i + " weight " + j);
                    assertEquals(w[j] == 0f, ints[j] == 0, "no shared weight rounds to 0");
                    if (ints[j] != 0) qs.add((int) ints[j]);
                }
                assertEquals(expected, qs, "k = " + k + ", layer " + i);
                assertTrue(qs.contains(127) || qs.contains(-127));
            }
        }
    }

    @Test
    void aScaleRoundTripsThroughTheQuantizersOwnScale() {
        Rng rng = new Rng(5);
        for (int t = 0; t < 100_000; t++) {
            float[] c = {rng.normal() * (float) Math.exp(rng.uniform(-12f, 3f)), rng.normal()};
            float s = Codebook.scale(c);
            assertEquals(s, dev.whittle.kernels.Quantization.symmetricScale(s * 127, dev.whittle.kernels.QuantRange.INT8_NARROW));
        }
    }

    @Test
    void aCentroidThatRoundsTo0IsDroppedAndItsWeightsPruned() {
        Parameter w = new Parameter("weight", new Tensor(new float[] {-1f, 1f, 0.002f, 0.001f, 0f, 0.5f}, new int[] {2, 3}));
        Codebook book = Codebook.cluster(0, w, 5);
        book.snap();
        book.write();
        float s = 1f / 127;
        // -1, 1, 0.5 (rounded to 64 steps) and the pair near 0 (0.0015 / s = 0.19 rounds to 0)
        assertArrayEquals(new float[] {-127 * s, 64 * s, 127 * s}, book.values());
        assertArrayEquals(new float[] {-127 * s, 127 * s, 0f, 0f, 0f, 64 * s}, w.value().data());
        assertArrayEquals(new boolean[] {true, true, false, false, false, true}, w.mask());
        assertEquals(-1, book.clusterOf(2));
        // two centroids that round to the same step merge
        assertArrayEquals(new float[] {30 * s, 30 * s, 127 * s}, Codebook.snapped(new float[] {0.236f, 0.237f, 1f}));
        assertNull(Codebook.cluster(0, new Parameter("weight", new Tensor(new float[4], new int[] {2, 2})), 4));
    }

    @Test
    void aCentroidsGradientIsTheDerivativeOfTheLossAlongIt() throws BadInputException {
        ArrayDataset data = teacher(16, new int[] {6}, 3);
        Sequential m = trained("flatten linear(5) tanh linear(3)", data, 2);
        Tensor x = new Batch(data, 16).fill(data, range(16), 0, 16);
        int[] labels = new int[16];
        for (int i = 0; i < 16; i++) labels[i] = data.label(i);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        for (int layer : new int[] {1, 3}) {
            Codebook book = Codebook.cluster(layer, ((Linear) m.layers().get(layer)).weight(), 4);
            book.write();
            m.zeroGrad();
            loss.forward(m.forward(x, true), labels);
            m.backward(loss.backward());
            book.gatherGradient();
            float[] c = book.centroids().value().data(), g = book.centroids().grad().data().clone();
            for (int k = 0; k < c.length; k++) {
                float keep = c[k], eps = 1e-2f;
                c[k] = keep + eps;
                book.write();
                double up = loss.forward(m.forward(x, true), labels);
                c[k] = keep - eps;
                book.write();
                double down = loss.forward(m.forward(x, true), labels);
                c[k] = keep;
                book.write();
                double fd = (up - down) / (2 * eps);
                assertEquals(fd, g[k], 2e-3 + 2e-2 * Math.abs(fd), "layer " + layer + " centroid " + k);
            }
        }
    }

    @Test
    void fineTuningTheCentroidsLowersTheLossOfTheSharedModel() throws BadInputException {
        ArrayDataset data = teacher(600, new int[] {8}, 4);
        Sequential model = trained("flatten linear(32) relu linear(3)", data, 15);
        WeightSharing.Config c = WeightSharing.Config.defaults().withClusters(3).withFineTuning(0, 3e-3f);
        var plain = WeightSharing.share(model, data, c, TrainingListener.NONE);
        List<EpochStats> seen = new ArrayList<>();
        int[] batches = new int[1];
        var tuned = WeightSharing.share(model, data, c.withFineTuning(3, 3e-3f), new TrainingListener() {
            @Override
            public void onBatch(int epoch, int batch, int total) {
                batches[0]++;
            }

            @Override
            public void onEpoch(EpochStats stats) {
                seen.add(stats);
            }
        });
        assertEquals(3, tuned.epochs().size());
        assertEquals(tuned.epochs(), seen);
        assertEquals(3 * Trainer.batchesPerEpoch(600, 128), batches[0]);
        double before = Evaluator.evaluate(plain.model(), data, 256).meanLoss();
        double after = Evaluator.evaluate(tuned.model(), data, 256).meanLoss();
        assertTrue(after < before, "loss " + before + " before fine-tuning, " + after + " after");
        for (int i : tuned.codebooks().keySet()) {
            float[] w = ((WeightedLayer) tuned.model().layers().get(i)).weight().value().data();
            assertTrue(distinctNonzero(w).size() <= 3);
        }
    }

    @Test
    void theSameSeedGivesTheSameModelOnOneThreadOrTwo() throws BadInputException {
        ArrayDataset data = teacher(300, new int[] {1, 8, 8}, 6);
        Sequential model = trained("conv(6,3) relu flatten linear(24) relu linear(3)", data, 2);
        WeightSharing.Config c = WeightSharing.Config.defaults().withClustersPerLayer(Map.of(3, 5)).withFineTuning(1, 1e-3f).withSeed(7);
        int threadsBefore = Parallel.threads();
        List<WeightSharing.Result> results = new ArrayList<>();
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                results.add(WeightSharing.share(model, data, c, TrainingListener.NONE));
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
        var a = results.get(0).model().stateDict();
        var b = results.get(1).model().stateDict();
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).tensor().data(), b.get(i).tensor().data(), a.get(i).name());
        for (int i : results.get(0).codebooks().keySet()) {
            assertArrayEquals(results.get(0).codebooks().get(i), results.get(1).codebooks().get(i));
        }
        assertTrue(results.get(0).codebooks().get(3).length <= 5);
    }

    @Test
    void badSettingsAreRejected() throws BadInputException {
        var d = WeightSharing.Config.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withClusters(1));
        assertThrows(IllegalArgumentException.class, () -> d.withClusters(257));
        assertThrows(IllegalArgumentException.class, () -> d.withClustersPerLayer(Map.of(1, 300)));
        assertThrows(IllegalArgumentException.class, () -> d.withFineTuning(-1, 1e-4f));
        assertThrows(IllegalArgumentException.class, () -> d.withFineTuning(1, 0f));
        assertThrows(IllegalArgumentException.class, () -> d.withFineTuning(1, Float.NaN));
        Sequential m = ArchSpec.build("flatten linear(4) relu linear(2)", new int[] {3}, 1);
        var e = assertThrows(BadInputException.class,
                () -> WeightSharing.share(m, null, d.withFineTuning(0, 1e-4f).withClustersPerLayer(Map.of(2, 4)), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("layer 2") && e.getMessage().contains("ReLU"), e.getMessage());
        assertThrows(BadInputException.class,
                () -> WeightSharing.share(m, null, d.withFineTuning(0, 1e-4f).withClustersPerLayer(Map.of(9, 4)), TrainingListener.NONE));
        assertThrows(IllegalArgumentException.class, () -> WeightSharing.share(m, null, d, TrainingListener.NONE));
    }

    static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }
}
