package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quantized models in the model file: exact round trips, and every kind of bad tensor refused at load time. */
class QuantizedModelFileTest {

    static final String SPEC = "conv(4,3,pad=1) relu maxpool(2) flatten linear(70) relu linear(5)";
    static final int[] INPUT = {1, 8, 8};

    @TempDir
    Path dir;

    /** Conv and first linear in W8A8; the last linear in INT4 (group 32) with fp32 activations. */
    static QuantizedModel mixed() throws BadInputException {
        Sequential model = ArchSpec.build(SPEC, INPUT, 21);
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        int[] idx = {0, 4, 6};
        float[][] ranges = {{-1f, 2f}, {0f, 3f}};
        for (int n = 0; n < idx.length; n++) {
            Layer l = model.layers().get(idx[n]);
            Tensor w = l instanceof Linear lin ? lin.weight().value() : ((Conv2d) l).weight().value();
            int rows = w.dim(0), cols = w.size() / rows;
            if (n < 2) {
                plans.put(idx[n], new QuantizedModel.LayerPlan(QuantizedWeights.roundToNearest(w.data(), rows, cols, 8, Granularity.PER_CHANNEL, 0),
                        ActivationMode.INT8, Quantization.affine(QuantRange.INT8, ranges[n][0], ranges[n][1])));
            } else {
                plans.put(idx[n], new QuantizedModel.LayerPlan(QuantizedWeights.roundToNearest(w.data(), rows, cols, 4, Granularity.PER_GROUP, 32),
                        ActivationMode.FLOAT, null));
            }
        }
        return QuantizedModel.build(model, plans);
    }

    static Tensor batch(int n) {
        Rng rng = new Rng(5);
        float[] x = new float[n * 64];
        for (int i = 0; i < x.length; i++) x[i] = rng.uniform(-1f, 2f);
        return new Tensor(x, n, 1, 8, 8);
    }

    @Test
    void roundTripGivesTheSameBitsAndStoresIntegers() throws Exception {
        QuantizedModel q = mixed();
        Path file = dir.resolve("q.safetensors");
        ModelFile.save(q, file, Map.of());
        ModelFile.Loaded back = ModelFile.load(file);
        assertTrue(back.quantized());
        Tensor x = batch(6);
        float[] want = q.predict(x).data().clone();
        assertArrayEquals(want, back.model().predict(x).data());
        SafeTensorsFile st = SafeTensors.read(file);
        assertEquals(DType.I8, st.get("0.weight").dtype());
        assertArrayEquals(new int[] {4, 1, 3, 3}, st.get("0.weight").shape());
        assertEquals(DType.U8, st.get("6.weight").dtype());
        assertArrayEquals(new int[] {5, 35}, st.get("6.weight").shape());   // K = 70, two per byte, no group padding
        assertArrayEquals(new int[] {5, 3}, st.get("6.weight_scale").shape());
        assertEquals(DType.F16, st.get("6.weight_scale").dtype());   // INT4 scales are rounded to FP16 and stored so
        assertEquals(DType.I32, st.get("4.input_zero_point").dtype());
        // a second save of the loaded model writes the same bytes
        Path again = dir.resolve("again.safetensors");
        ModelFile.save((QuantizedModel) back.model(), again, Map.of());
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
    }

    @Test
    void aPrunedInt8WeightIsStoredSparseAndReadBackExactly() throws Exception {
        Sequential model = ArchSpec.build(SPEC, INPUT, 21);
        float[] w = ((Linear) model.layers().get(4)).weight().value().data();
        for (int i = 0; i < w.length; i++) if (i % 10 != 0) w[i] = 0f;   // 90% sparse
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        Tensor wt = ((Linear) model.layers().get(4)).weight().value();
        plans.put(4, new QuantizedModel.LayerPlan(QuantizedWeights.roundToNearest(wt.data(), wt.dim(0), wt.dim(1), 8, Granularity.PER_CHANNEL, 0),
                ActivationMode.INT8, Quantization.affine(QuantRange.INT8, 0f, 3f)));
        QuantizedModel q = QuantizedModel.build(model, plans);
        Path file = dir.resolve("sparse-int8.safetensors");
        ModelFile.save(q, file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        // evenly spaced nonzeros: the Huffman coding's gaps cost nothing, so it beats CSR and the bitmap
        assertEquals(DType.U8, st.get("4.weight.huffman").dtype());
        assertTrue(st.get("4.weight") == null);
        Tensor x = batch(4);
        float[] want = q.predict(x).data().clone();
        assertArrayEquals(want, ModelFile.load(file).model().predict(x).data());

        // the same weight as bitmap parts with I8 values (what files held before Huffman coding) still loads
        byte[] int8 = ((dev.whittle.engine.quant.QuantizedLinear) q.entries().get(4).quantized()).weights().int8Values();
        float[] asFloats = new float[int8.length];
        for (int i = 0; i < int8.length; i++) asFloats[i] = int8[i];
        Map<String, Object> index = new LinkedHashMap<>();
        List<TensorEntry> entries = new ArrayList<>();
        for (TensorEntry e : st.tensors()) if (!e.name().equals("4.weight.huffman")) entries.add(e);
        for (TensorEntry e : SparseStorage.encode("4.weight", asFloats, new int[] {70, 64}, index)) {
            if (!e.name().endsWith(".values")) entries.add(e);
            else {
                float[] f = e.toFloats();
                byte[] b = new byte[f.length];
                for (int i = 0; i < f.length; i++) b[i] = (byte) f[i];
                entries.add(TensorEntry.ofBytes(e.name(), DType.I8, b, b.length));
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(st.metadata());
        meta.put(SparseStorage.SPARSE_KEY, Json.write(Map.of("version", 1, "tensors", index)));
        Path bitmap = dir.resolve("bitmap-int8.safetensors");
        SafeTensors.write(bitmap, meta, entries);
        assertEquals(DType.I8, SafeTensors.read(bitmap).get("4.weight.values").dtype());
        assertTrue(SafeTensors.read(bitmap).get("4.weight.bitmap") != null);
        assertArrayEquals(want, ModelFile.load(bitmap).model().predict(x).data());
    }

    /** Rewrites the saved file with one tensor changed (a valid container with a bad model in it). */
    private Path withTensor(String name, UnaryOperator<TensorEntry> change) throws Exception {
        return rewrite(name, change, null);
    }

    private Path rewrite(String name, UnaryOperator<TensorEntry> change, UnaryOperator<String> quantMeta) throws Exception {
        Path file = dir.resolve("good.safetensors");
        ModelFile.save(mixed(), file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        List<TensorEntry> entries = new ArrayList<>();
        for (TensorEntry e : st.tensors()) {
            if (!e.name().equals(name)) entries.add(e);
            else if (change != null) {
                TensorEntry c = change.apply(e);
                if (c != null) entries.add(c);
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(st.metadata());
        if (quantMeta != null) meta.put("whittle.quant", quantMeta.apply(meta.get("whittle.quant")));
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, meta, entries);
        return bad;
    }

    private static TensorEntry floatValue(TensorEntry e, float v) {
        float[] f = new float[(int) e.elementCount()];
        java.util.Arrays.fill(f, 0.01f);
        f[f.length - 1] = v;
        return TensorEntry.ofFloats(e.name(), f, e.shape());
    }

    private static void expectBad(Path file, String... mention) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String m : mention) assertTrue(e.getMessage().contains(m), "'" + m + "' not in: " + e.getMessage());
    }

    @Test
    void badScalesAreRefused() throws Exception {
        for (float v : new float[] {0f, -0.5f, Float.NaN, Float.POSITIVE_INFINITY}) {
            expectBad(withTensor("0.weight_scale", e -> floatValue(e, v)), "0.weight", String.valueOf(v));
            expectBad(withTensor("6.weight_scale", e -> floatValue(e, v)), "6.weight", String.valueOf(v));
            expectBad(withTensor("4.input_scale", e -> floatValue(e, v)), "4.input_scale", String.valueOf(v));
        }
    }

    @Test
    void zeroPointsOutOfRangeAreRefused() throws Exception {
        for (int z : new int[] {128, -129, 300}) {
            expectBad(withTensor("4.input_zero_point", e -> TensorEntry.ofInts(e.name(), new int[] {z}, 1)), "4.input_zero_point", "" + z);
        }
    }

    @Test
    void aPackedInt4TensorOfTheWrongSizeIsRefused() throws Exception {
        // one byte short per row: 68 values cannot hold K = 70
        expectBad(withTensor("6.weight", e -> TensorEntry.ofBytes(e.name(), DType.U8, new byte[5 * 34], 5, 34)), "6.weight", "[5, 35]");
        // whole rows missing
        expectBad(withTensor("6.weight", e -> TensorEntry.ofBytes(e.name(), DType.U8, new byte[4 * 35], 4, 35)), "6.weight", "U8");
    }

    @Test
    void aGroupSizeThatDoesNotDivideThePaddedKIsRefused() throws Exception {
        // the file says group 64: K = 70 makes 2 groups a row, but 3 scales a row are stored
        expectBad(rewrite("none", null, m -> m.replace("\"group_size\":32", "\"group_size\":64")), "6.weight_scale", "groups of 64");
        expectBad(rewrite("none", null, m -> m.replace("\"group_size\":32", "\"group_size\":48")), "group_size", "48");
    }

    @Test
    void anInt8WeightOfMinus128IsRefused() throws Exception {
        expectBad(withTensor("4.weight", e -> {
            byte[] b = e.data().clone();
            b[17] = Byte.MIN_VALUE;
            return TensorEntry.ofBytes(e.name(), DType.I8, b, e.shape());
        }), "4.weight", "-128");
    }

    @Test
    void missingExtraAndMistypedTensorsAreRefused() throws Exception {
        expectBad(withTensor("4.input_scale", e -> null), "4.input_scale", "missing");
        expectBad(withTensor("0.weight", e -> TensorEntry.ofFloats(e.name(), new float[36], 4, 1, 3, 3)), "0.weight", "F32");
        expectBad(rewrite("none", null, m -> m.replace("\"bits\":4", "\"bits\":3")), "bits", "3");
        expectBad(rewrite("none", null, m -> m.replace("\"index\":6", "\"index\":5")), "layer 5", "cannot be quantized");
        expectBad(rewrite("none", null, m -> "{not json"), "whittle.quant");
        Path file = dir.resolve("extra.safetensors");
        ModelFile.save(mixed(), file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        List<TensorEntry> entries = new ArrayList<>(st.tensors());
        entries.add(TensorEntry.ofFloats("9.stray", new float[] {1f}, 1));
        SafeTensors.write(file, st.metadata(), entries);
        expectBad(file, "9.stray");
    }
}
