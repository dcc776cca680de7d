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
import dev.whittle.kernels.QuantParams.Granularity;
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
            QuantizationConfig c = new QuantizationConfig(4, Granularity.PER_GROUP, 64, mode, false, 1000, 0L, Set.of());
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
        QuantizationConfig other = new QuantizationConfig(8, Granularity.PER_CHANNEL, 0, ActivationMode.INT8, false, 50, 1L, Set.of());
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
        QuantizationConfig c = new QuantizationConfig(8, Granularity.PER_CHANNEL, 0, ActivationMode.INT8, false, 200, 0L, Set.of(3));
        QuantizedModel q = PostTrainingQuantizer.quantize(mlp, data.train(), c);
        assertEquals(Set.of(1, 5), q.quantizedLayers().keySet());
        Tensor x = new dev.whittle.engine.train.Batch(data.test(), 4).fill(data.test(), new int[] {0, 1, 2, 3}, 0, 4);
        float[] want = mlp.forward(x, false).data().clone();
        float[] got = q.predict(x).data();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0.1 * (1 + Math.abs(want[i])));
    }
}
