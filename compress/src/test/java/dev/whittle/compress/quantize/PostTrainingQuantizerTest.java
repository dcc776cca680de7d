package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Post-training quantization of a model trained on real digits (the embedded mnist-10k). */
class PostTrainingQuantizerTest {

    static DataSplit data;
    static Sequential mlp;
    static double mlpAccuracy;

    @TempDir
    Path dir;

    @BeforeAll
    static void train() throws Exception {
        data = Datasets.open("mnist-10k", null, 0.2, 0);
        mlp = ArchSpec.build("lenet-300-100", data.train().sampleShape(), 0);
        Trainer.fit(mlp, data.train(), null, TrainConfig.defaults().withEpochs(2), dev.whittle.engine.train.TrainingListener.NONE);
        mlpAccuracy = Evaluator.evaluate(mlp, data.test(), 256).accuracy();
    }

    @Test
    void int8KeepsTheAccuracyOfTheFloatModel() {
        QuantizedModel q = PostTrainingQuantizer.quantize(mlp, data.train(), QuantizationConfig.int8());
        double acc = Evaluator.evaluate(q, data.test(), 256).accuracy();
        assertTrue(mlpAccuracy > 0.9, "fp32 " + mlpAccuracy);
        assertTrue(Math.abs(acc - mlpAccuracy) < 0.01, "int8 " + acc + " against fp32 " + mlpAccuracy);
    }

    @Test
    void int4KeepsMostOfIt() {
        for (ActivationMode mode : new ActivationMode[] {ActivationMode.FLOAT, ActivationMode.INT8_DYNAMIC}) {
            QuantizationConfig c = QuantizationConfig.int4(64).withActivations(mode, false);
            double acc = Evaluator.evaluate(PostTrainingQuantizer.quantize(mlp, data.train(), c), data.test(), 256).accuracy();
            assertTrue(acc > mlpAccuracy - 0.03, mode + ": int4 " + acc + " against fp32 " + mlpAccuracy);
        }
    }

    @Test
    void theSameSeedGivesTheSameFileAndAnotherSeedAnotherCalibration() throws Exception {
        Path a = dir.resolve("a.safetensors"), b = dir.resolve("b.safetensors"), c = dir.resolve("c.safetensors");
        ModelFile.save(PostTrainingQuantizer.quantize(mlp, data.train(), QuantizationConfig.int8()), a, Map.of());
        ModelFile.save(PostTrainingQuantizer.quantize(mlp, data.train(), QuantizationConfig.int8()), b, Map.of());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        QuantizationConfig other = QuantizationConfig.int8().withCalibration("minmax", 50, 1L);
        ModelFile.save(PostTrainingQuantizer.quantize(mlp, data.train(), other), c, Map.of());
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
        // int8 weights: about a quarter of the 4-byte floats
        assertTrue(Files.size(a) * 3 < mlp.parameterCount() * 4, Files.size(a) + " bytes");
    }

    @Test
    void calibrationDrawsDistinctTrainingSamples() {
        int[] picked = PostTrainingQuantizer.calibrationSamples(8000, 1000, 0);
        assertEquals(1000, picked.length);
        assertEquals(1000, java.util.Arrays.stream(picked).distinct().count());
        assertTrue(java.util.Arrays.stream(picked).allMatch(i -> i >= 0 && i < 8000));
        assertEquals(30, PostTrainingQuantizer.calibrationSamples(30, 1000, 0).length);
    }

    @Test
    void minMaxObserverCoversWhatItSawAndZero() {
        MinMaxObserver o = new MinMaxObserver();
        o.observe(new float[] {0.5f, 2f, 1f}, 0, 3);
        o.observe(new float[] {3f, 0.25f}, 0, 2);
        assertEquals(0.25f, o.min());
        assertEquals(3f, o.max());
        var p = o.int8(false);
        // [0, 3] (0 included) over 255 steps, 0 exactly at the zero point -128
        assertEquals(3f / 255, p.scales()[0], 1e-7);
        assertEquals(-128, p.zeroPoints()[0]);
        var s = o.int8(true);
        assertEquals(3f / 127, s.scales()[0], 1e-7);
        assertEquals(0, s.zeroPoints()[0]);
    }

    @Test
    void layersKeptInFloatStayFloat() {
        QuantizationConfig c = QuantizationConfig.int8().withCalibration("minmax", 200, 0L).withKeepFloat(Set.of(3));
        QuantizedModel q = PostTrainingQuantizer.quantize(mlp, data.train(), c);
        assertEquals(Set.of(1, 5), q.quantizedLayers().keySet());
        Tensor x = new dev.whittle.engine.train.Batch(data.test(), 4).fill(data.test(), new int[] {0, 1, 2, 3}, 0, 4);
        float[] want = mlp.forward(x, false).data().clone();
        float[] got = q.predict(x).data();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0.1 * (1 + Math.abs(want[i])));
    }

    @Test
    void mixedPrecisionQuantizesTheNamedLayersToInt8AndTheRestToInt4() throws Exception {
        QuantizationConfig int8 = QuantizationConfig.int8().withCalibration("minmax", 200, 0L);
        QuantizationConfig mixed = QuantizationConfig.int4(64).withCalibration("minmax", 200, 0L).withInt8Layers(Set.of(3));
        QuantizedModel q = PostTrainingQuantizer.quantize(mlp, data.train(), mixed);
        QuantizedModel all8 = PostTrainingQuantizer.quantize(mlp, data.train(), int8);
        var layers = q.quantizedLayers();
        assertEquals(Set.of(1, 3, 5), layers.keySet());
        var middle = (dev.whittle.engine.quant.QuantizedLinear) layers.get(3);
        var middle8 = (dev.whittle.engine.quant.QuantizedLinear) all8.quantizedLayers().get(3);
        assertEquals(4, ((dev.whittle.engine.quant.QuantizedLinear) layers.get(1)).weights().bits());
        assertEquals(4, ((dev.whittle.engine.quant.QuantizedLinear) layers.get(5)).weights().bits());
        assertEquals(8, middle.weights().bits());
        assertEquals(ActivationMode.INT8, middle.activations());
        // the INT8 layer is what an all-INT8 quantization makes of it: the same weights, the same input range
        assertArrayEquals(middle8.weights().int8Values(), middle.weights().int8Values());
        assertArrayEquals(middle8.weights().scales(), middle.weights().scales());
        assertEquals(middle8.inputQuantization(), middle.inputQuantization());
        double acc = Evaluator.evaluate(q, data.test(), 256).accuracy();
        assertTrue(acc > mlpAccuracy - 0.03, "mixed " + acc + " against fp32 " + mlpAccuracy);
        // and it survives the model file
        Path f = dir.resolve("mixed.safetensors");
        ModelFile.save(q, f, Map.of());
        Tensor x = new dev.whittle.engine.train.Batch(data.test(), 4).fill(data.test(), new int[] {0, 1, 2, 3}, 0, 4);
        assertArrayEquals(q.predict(x).data().clone(), ((QuantizedModel) ModelFile.load(f).model()).predict(x).data());
    }

    @Test
    void int8LayersAreNamedOnlyInAnInt4Quantization() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> QuantizationConfig.int8().withInt8Layers(Set.of(1)));
    }

    @Test
    void biasCorrectionRemovesTheMeanShiftOfRoundedWeights() {
        QuantizationConfig plain = QuantizationConfig.int4(128), corrected = plain.withTransforms(false, false, true);
        int n = 500;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Tensor x = new dev.whittle.engine.train.Batch(data.train(), n).fill(data.train(), order, 0, n);
        float[] want = mlp.forward(x, false).data().clone();
        double[] shift = new double[2];
        int k = 0;
        for (QuantizationConfig c : new QuantizationConfig[] {plain, corrected}) {
            float[] got = PostTrainingQuantizer.quantize(mlp, data.train(), c).predict(x).data();
            double norm = 0;
            for (int j = 0; j < 10; j++) {
                double mean = 0;
                for (int i = 0; i < n; i++) mean += got[i * 10 + j] - want[i * 10 + j];
                norm += (mean / n) * (mean / n);
            }
            shift[k++] = Math.sqrt(norm);
        }
        assertTrue(shift[1] < 0.7 * shift[0], "mean logit shift " + shift[0] + " without, " + shift[1] + " with bias correction");
    }

    @Test
    void quantizationAwareTrainingConvertsWhatItTrained() throws Exception {
        QuantizationConfig c = QuantizationConfig.int4(128);
        var r = QuantizationAwareTraining.run(mlp, data.train(), null, c,
                TrainConfig.defaults().withEpochs(1).withLearningRate(1e-4f), dev.whittle.engine.train.TrainingListener.NONE);
        // the integer model computes the fine-tuned weights rounded as the fake quantization rounded them
        Sequential rounded = r.fineTuned().copy();
        for (int i : r.quantized().quantizedLayers().keySet()) {
            var lin = (dev.whittle.engine.nn.Linear) rounded.layers().get(i);
            var q = PostTrainingQuantizer.roundToNearest(lin, c);
            float[] w = lin.weight().value().data();
            for (int o = 0; o < q.rows(); o++) for (int p = 0; p < q.cols(); p++) w[o * q.cols() + p] = q.dequantized(o, p);
        }
        Tensor x = new dev.whittle.engine.train.Batch(data.test(), 8).fill(data.test(), new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 0, 8);
        float[] want = rounded.forward(x, false).data().clone(), got = r.quantized().predict(x).data();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])));
        assertEquals(1, r.epochs().size());
        double qat = Evaluator.evaluate(r.quantized(), data.test(), 256).accuracy();
        double ptq = Evaluator.evaluate(PostTrainingQuantizer.quantize(mlp, data.train(), c), data.test(), 256).accuracy();
        assertTrue(qat >= ptq - 0.005, "QAT " + qat + " against post-training " + ptq);
        // the input model is not touched
        assertEquals(mlpAccuracy, Evaluator.evaluate(mlp, data.test(), 256).accuracy());
    }

    @Test
    void sensitivityQuantizesOneLayerAtATime() {
        var results = Sensitivity.analyze(mlp, data.train(), data.test(), QuantizationConfig.int4(32), mlpAccuracy);
        assertEquals(java.util.List.of(1, 3, 5), results.stream().map(Sensitivity.LayerResult::index).toList());
        for (var r : results) {
            assertEquals(100 * (mlpAccuracy - r.accuracy()), r.dropPoints(), 1e-9);
            assertTrue(r.accuracy() > mlpAccuracy - 0.05, r.toString());
        }
    }
}
