package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.optim.LearningRateSchedule;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {

    @TempDir
    Path dir;

    private static final int[] IMAGE = {1, 8, 8};

    /** Random {@code [1, 8, 8]} images with labels from the sign of a fixed projection, 3 classes. */
    private static Dataset images(int n, long seed) {
        Rng rng = new Rng(seed);
        float[][] x = new float[n][64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < 64; p++) x[i][p] = rng.normal() + 0.5f;
            float s = x[i][0] + x[i][9] - x[i][63];
            y[i] = s < 0 ? 0 : s < 1.5f ? 1 : 2;
        }
        return new Dataset() {
            public String name() { return "images"; }
            public int size() { return n; }
            public int[] sampleShape() { return IMAGE.clone(); }
            public int numClasses() { return 3; }
            public int label(int index) { return y[index]; }
            public void sample(int index, float[] dst, int offset) { System.arraycopy(x[index], 0, dst, offset, 64); }
        };
    }

    /** A model of {@code spec} trained a couple of epochs, so that weights and BN statistics are not their initial values. */
    private static Sequential trained(String spec) throws BadInputException {
        Sequential model = ArchSpec.build(spec, IMAGE, 3);
        TrainConfig c = new TrainConfig(2, 16, 0.01f, TrainConfig.OptimizerKind.ADAM, 0f, false, 0f,
                LearningRateSchedule.constant(), 3);
        Trainer.fit(model, images(70, 1), null, c, TrainingListener.NONE);
        return model;
    }

    /** {@code n} random samples of {@code shape}, as one batch. */
    private static Tensor batch(int n, int[] shape, long seed) {
        int[] full = new int[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        Tensor t = Tensor.zeros(full);
        Rng rng = new Rng(seed);
        float[] x = t.data();
        for (int i = 0; i < x.length; i++) x[i] = 2 * rng.normal();
        return t;
    }

    private static void assertSameModel(Sequential want, Sequential got) {
        assertEquals(want.arch(), got.arch());
        assertArrayEquals(want.inputShape(), got.inputShape());
        List<NamedTensor> a = want.stateDict(), b = got.stateDict();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).name(), b.get(i).name());
            assertTrue(a.get(i).tensor().bitEquals(b.get(i).tensor()), a.get(i).name() + " differs");
        }
        // evaluation mode gives the same bits (BN uses the running statistics)
        Tensor x = batch(9, want.inputShape(), 42);
        float[] ya = want.forward(x, false).data().clone();
        float[] yb = got.forward(x, false).data();
        assertEquals(ya.length, yb.length);
        for (int i = 0; i < ya.length; i++) assertEquals(Float.floatToRawIntBits(ya[i]), Float.floatToRawIntBits(yb[i]));
    }

    @Test
    void mlpRoundTripsBitExactly() throws Exception {
        Sequential model = trained("flatten linear(16) relu linear(3)");
        Path file = dir.resolve("mlp.safetensors");
        Map<String, String> meta = Map.of("whittle.recipe", "train --epochs 2", "note", "ünïcode ✓");
        long bytes = ModelFile.save(model, file, meta);
        assertEquals(Files.size(file), bytes);

        ModelFile.Loaded loaded = ModelFile.load(file);
        assertSameModel(model, ((Sequential) loaded.model()));
        assertEquals("train --epochs 2", loaded.metadata().get("whittle.recipe"));
        assertEquals("ünïcode ✓", loaded.metadata().get("note"));
        assertEquals("flatten linear(16) relu linear(3)", loaded.metadata().get(ModelFile.ARCH_KEY));
        assertEquals("1,8,8", loaded.metadata().get(ModelFile.INPUT_SHAPE_KEY));
        assertEquals(bytes, loaded.fileBytes());
        // the data section is exactly the parameters as F32; the rest is the 8-byte length and the header
        assertEquals(bytes, 8 + loaded.headerBytes() + 4 * model.parameterCount());
    }

    @Test
    void cnnWithBatchNormRoundTripsIncludingRunningStatistics() throws Exception {
        String spec = "conv(4,3,pad=1) bn relu flatten linear(3)";
        Sequential model = trained(spec);
        BatchNorm bn = (BatchNorm) model.layers().get(1);
        for (float v : bn.runningMean().data()) assertTrue(v != 0f, "running mean still 0: BN not exercised");
        for (float v : bn.runningVar().data()) assertTrue(v != 1f, "running var still 1: BN not exercised");

        Path file = dir.resolve("cnn.safetensors");
        ModelFile.save(model, file, Map.of());
        ModelFile.Loaded loaded = ModelFile.load(file);
        assertSameModel(model, ((Sequential) loaded.model()));
        BatchNorm bn2 = (BatchNorm) ((Sequential) loaded.model()).layers().get(1);
        assertTrue(bn.runningVar().bitEquals(bn2.runningVar()));
        assertNotNull(SafeTensors.read(file).get("1.running_mean"));

        Dataset test = images(40, 2);
        Evaluation before = Evaluator.evaluate(model, test, 16), after = Evaluator.evaluate(((Sequential) loaded.model()), test, 16);
        assertEquals(before.accuracy(), after.accuracy(), 0.0);
        assertEquals(before.meanLoss(), after.meanLoss(), 0.0);
        assertArrayEquals(before.confusion(), after.confusion());
    }

    @Test
    void presetArchitectureNameIsKeptAndRebuilt() throws Exception {
        Sequential model = ArchSpec.build("lenet-300-100", new int[] {1, 28, 28}, 5);
        Path file = dir.resolve("lenet.safetensors");
        ModelFile.save(model, file, Map.of());
        Sequential back = ((Sequential) ModelFile.load(file).model());
        assertEquals("lenet-300-100", back.arch());
        assertEquals(784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10, back.parameterCount());
        assertSameModel(model, back);
    }

    @Test
    void savingReplacesAnExistingFile() throws Exception {
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(ArchSpec.build("flatten linear(3)", IMAGE, 1), file, Map.of());
        Sequential second = ArchSpec.build("flatten linear(5) relu linear(3)", IMAGE, 2);
        ModelFile.save(second, file, Map.of());
        assertSameModel(second, ((Sequential) ModelFile.load(file).model()));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
    }

    // ---------------------------------------------------------------- bad files

    /** A valid model file's metadata and tensors, for the bad-file tests to spoil one thing of. */
    private record Parts(Map<String, String> metadata, List<TensorEntry> tensors) {}

    private static Parts goodParts() throws BadInputException {
        Sequential model = ArchSpec.build("conv(2,3) bn relu flatten linear(3)", IMAGE, 0);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelFile.ARCH_KEY, model.arch());
        meta.put(ModelFile.INPUT_SHAPE_KEY, "1,8,8");
        List<TensorEntry> tensors = new ArrayList<>();
        for (NamedTensor t : model.stateDict()) tensors.add(TensorEntry.ofFloats(t.name(), t.tensor().data(), t.tensor().shape()));
        return new Parts(meta, tensors);
    }

    /** Writes the good parts changed by {@code metaEdit} and {@code tensorEdit}; loads it and returns the error. */
    private BadInputException rejected(String name, UnaryOperator<Map<String, String>> metaEdit,
                                       UnaryOperator<List<TensorEntry>> tensorEdit, String... mustMention) throws Exception {
        Parts p = goodParts();
        Path file = dir.resolve(name + ".safetensors");
        SafeTensors.write(file, metaEdit.apply(new LinkedHashMap<>(p.metadata())), tensorEdit.apply(new ArrayList<>(p.tensors())));
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file), name);
        String message = e.getMessage();
        assertTrue(message.contains(file.toString()), name + ": message does not name the file: " + message);
        assertFalse(message.contains("\n"), name + ": message is not one line: " + message);
        for (String s : mustMention) assertTrue(message.contains(s), name + ": message lacks \"" + s + "\": " + message);
        return e;
    }

    @Test
    void theUnspoiledPartsLoad() throws Exception {
        Parts p = goodParts();
        Path file = dir.resolve("good.safetensors");
        SafeTensors.write(file, p.metadata(), p.tensors());
        assertEquals(2 * 9 + 2 + 2 + 2 + 3 * 72 + 3, ((Sequential) ModelFile.load(file).model()).parameterCount());
    }

    @Test
    void missingArchitectureIsRejected() throws Exception {
        rejected("no-arch", m -> { m.remove(ModelFile.ARCH_KEY); return m; }, t -> t, ModelFile.ARCH_KEY);
    }

    @Test
    void plainSafetensorsWithoutMetadataIsRejected() throws Exception {
        rejected("no-metadata", m -> null, t -> t, ModelFile.ARCH_KEY);
    }

    @Test
    void badArchitectureIsRejected() throws Exception {
        rejected("bad-arch", m -> { m.put(ModelFile.ARCH_KEY, "conv(2,3) frobnicate relu"); return m; }, t -> t,
                ModelFile.ARCH_KEY, "frobnicate");
    }

    @Test
    void badInputShapesAreRejected() throws Exception {
        rejected("no-shape", m -> { m.remove(ModelFile.INPUT_SHAPE_KEY); return m; }, t -> t, ModelFile.INPUT_SHAPE_KEY);
        for (String shape : new String[] {"", "1,8,x", "1,0,8", "1,-8,8", "1,,8", "1;8;8", "99999999999"}) {
            rejected("shape-" + Integer.toHexString(shape.hashCode()), m -> { m.put(ModelFile.INPUT_SHAPE_KEY, shape); return m; },
                    t -> t, ModelFile.INPUT_SHAPE_KEY);
        }
        // a well-formed shape the architecture cannot take (conv needs an image): the arch is blamed
        rejected("flat-shape", m -> { m.put(ModelFile.INPUT_SHAPE_KEY, "64"); return m; }, t -> t, ModelFile.ARCH_KEY);
    }

    @Test
    void missingTensorIsRejected() throws Exception {
        rejected("missing", m -> m, t -> { t.removeIf(e -> e.name().equals("1.running_var")); return t; },
                "1.running_var", "missing");
    }

    @Test
    void tensorOfWrongShapeIsRejected() throws Exception {
        rejected("shape", m -> m, t -> {
            t.replaceAll(e -> e.name().equals("4.weight") ? TensorEntry.ofFloats("4.weight", new float[72 * 3], 72, 3) : e);
            return t;
        }, "4.weight", "[72, 3]", "[3, 72]");
    }

    @Test
    void extraTensorIsRejected() throws Exception {
        rejected("extra", m -> m, t -> { t.add(TensorEntry.ofFloats("5.weight", new float[4], 2, 2)); return t; },
                "5.weight");
    }

    @Test
    void nonFiniteValuesAreRejected() throws Exception {
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int b = 0; b < bad.length; b++) {
            float v = bad[b];
            rejected("nonfinite-" + b, m -> m, t -> {
                t.replaceAll(e -> {
                    if (!e.name().equals("4.weight")) return e;
                    float[] w = e.toFloats();
                    w[5] = v;
                    return TensorEntry.ofFloats("4.weight", w, e.shape());
                });
                return t;
            }, "4.weight", "element 5", Float.toString(v));
        }
    }

    @Test
    void aNamedPipeIsRefusedRatherThanReadForever() throws Exception {
        Path fifo = dir.resolve("pipe.safetensors");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo is not available");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(fifo));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void tensorOfWrongDtypeIsRejected() throws Exception {
        rejected("dtype-i32", m -> m, t -> {
            t.replaceAll(e -> e.name().equals("0.bias") ? TensorEntry.ofInts("0.bias", new int[2], 2) : e);
            return t;
        }, "0.bias", "I32", "F32");
        rejected("dtype-u8", m -> m, t -> {
            t.replaceAll(e -> e.name().equals("4.bias") ? TensorEntry.ofBytes("4.bias", DType.U8, new byte[12], 12) : e);
            return t;
        }, "4.bias", "U8");
    }

    @Test
    void corruptedDataIsRejectedByTheChecksum() throws Exception {
        Path file = dir.resolve("flip.safetensors");
        ModelFile.save(ArchSpec.build("flatten linear(3)", IMAGE, 0), file, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 5] ^= 0x10;
        Files.write(file, bytes);
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void missingFileIsBadInputNamingIt() {
        Path file = dir.resolve("nowhere.safetensors");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void hugeDeclaredModelIsBadInputNotACrash() throws Exception {
        // A tiny file whose spec asks for more weights than Java can index (a corrupt or hostile
        // header) is bad input naming the file, not an internal error.
        for (String[] archAndShape : new String[][] {{"flatten linear(3)", "1048576,1048576"},
                {"flatten linear(1000000)", "1,1000,1000"}, {"mlp(1000000,3000,3)", "1,1000,1000"},
                // fits in Java arrays (about 1.6 GB of weights) but not in this 12-byte data section
                {"mlp(784,20000,20000,10)", "1,28,28"}}) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(ModelFile.ARCH_KEY, archAndShape[0]);
            meta.put(ModelFile.INPUT_SHAPE_KEY, archAndShape[1]);
            Path file = dir.resolve("huge.safetensors");
            SafeTensors.write(file, meta, List.of(TensorEntry.ofFloats("1.bias", new float[3], 3)));
            BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file), archAndShape[0]);
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }
}
