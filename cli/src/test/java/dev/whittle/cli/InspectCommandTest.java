package dev.whittle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Rng;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whittle inspect} names how each weight is stored: dense, or the sparse layout the file chose. */
class InspectCommandTest {

    @TempDir
    Path dir;

    @Test
    void aPrunedWeightSharedInt8LayerShowsAsHuffman() throws Exception {
        Sequential model = ArchSpec.build("mlp(784,300,10)", new int[] {1, 28, 28}, 1);
        Rng rng = new Rng(2);
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        Linear first = (Linear) model.layers().get(1);
        int rows = first.weight().value().dim(0), cols = first.weight().value().dim(1);
        byte[] w = new byte[rows * cols];
        for (int i = 0; i < w.length; i++) if (rng.nextDouble() < 0.05) w[i] = (byte) (4 * rng.nextInt(16) - 30);   // 16 shared values
        float[] scales = new float[rows];
        Arrays.fill(scales, 0.01f);
        plans.put(1, new QuantizedModel.LayerPlan(QuantizedWeights.int8(w, rows, cols, Granularity.PER_CHANNEL, scales), ActivationMode.INT8,
                Quantization.affine(QuantRange.INT8, -1f, 4f)));
        Path file = dir.resolve("q.safetensors"), report = dir.resolve("inspect.json");
        ModelFile.save(QuantizedModel.build(model, plans), file, Map.of());

        MainTest.Run r = MainTest.run("inspect", "--model", file.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        String line1 = r.out().lines().filter(l -> l.startsWith("1 ")).findFirst().orElseThrow();
        String line3 = r.out().lines().filter(l -> l.startsWith("3 ")).findFirst().orElseThrow();
        assertTrue(line1.contains(" huffman "), r.out());
        assertTrue(line3.contains(" dense "), r.out());
        List<Object> stored = new ArrayList<>();
        for (Object l : (List<?>) MainTest.readReport(report).get("layers")) stored.add(((Map<?, ?>) l).get("stored"));
        assertEquals(List.of("-", "huffman", "-", "dense"), stored);
    }

    @Test
    void aConvolutionThatPoolsInPlaceShowsItsOwnOutputShape() throws Exception {
        Sequential model = ArchSpec.build("conv(4,3,pad=1) relu maxpool(2) flatten linear(3)", new int[] {1, 8, 8}, 1);
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        for (int i : new int[] {0, 4}) {
            var weight = model.layers().get(i).parameters().get(0).value();
            int rows = weight.dim(0), cols = weight.size() / rows;
            plans.put(i, new QuantizedModel.LayerPlan(QuantizedWeights.roundToNearest(weight.data(), rows, cols, 8, Granularity.PER_CHANNEL, 0),
                    ActivationMode.INT8, Quantization.affine(QuantRange.INT8, -1f, 4f)));
        }
        QuantizedModel q = QuantizedModel.build(model, plans);
        assertTrue(q.steps().stream().anyMatch(s -> s instanceof dev.whittle.engine.quant.QuantizedConv2d c && c.poolsFused()),
                "the test needs a convolution that pools in place");
        Path file = dir.resolve("conv.safetensors");
        ModelFile.save(q, file, Map.of());
        MainTest.Run r = MainTest.run("inspect", "--model", file.toString());
        assertEquals(0, r.code(), r.err());
        String conv = r.out().lines().filter(l -> l.startsWith("0 ")).findFirst().orElseThrow();
        String pool = r.out().lines().filter(l -> l.startsWith("2 ")).findFirst().orElseThrow();
        assertTrue(conv.contains("[4,8,8]"), r.out());
        assertTrue(pool.contains("[4,4,4]"), r.out());
    }
}
