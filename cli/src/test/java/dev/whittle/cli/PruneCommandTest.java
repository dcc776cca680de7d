package dev.whittle.cli;

import static dev.whittle.cli.MainTest.assertRejected;
import static dev.whittle.cli.MainTest.number;
import static dev.whittle.cli.MainTest.readReport;
import static dev.whittle.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.kernels.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whittle prune} end to end on the embedded digits: report fields, real shrinking, refused input. */
class PruneCommandTest {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path model;
    static int threadsBefore;

    @BeforeAll
    static void trainOnce() {
        threadsBefore = Parallel.threads();
        model = MainTest.trained(shared.resolve("cnn.safetensors"), "conv(8,3,pad=1) relu maxpool(2) flatten linear(64) relu linear(10)", 1);
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void gradualMagnitudePruningReportsSparsityAndShrinksTheFile() throws IOException {
        Path out = dir.resolve("p.safetensors"), report = dir.resolve("p.json");
        MainTest.Run r = run("prune", "--model", model.toString(), "--data", "mnist-10k", "--sparsity", "0.9", "--finetune-epochs", "1",
                "--runs", "5", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> p = readReport(report);
        assertEquals("prune", p.get("command"));
        assertEquals(0.9, number(p, "sparsity"), 1e-3);
        Map<?, ?> base = (Map<?, ?>) p.get("baseline"), fin = (Map<?, ?>) p.get("final");
        for (String k : List.of("accuracy", "file_bytes", "header_bytes", "params", "nonzeros", "latency_us_p50", "throughput_per_s")) {
            assertTrue(fin.get(k) instanceof Number && base.get(k) instanceof Number, k);
        }
        assertTrue(((Number) fin.get("nonzeros")).doubleValue() < 0.11 * ((Number) base.get("nonzeros")).doubleValue());
        assertTrue(Files.size(out) * 4 < Files.size(model), "pruned file " + Files.size(out) + " of " + Files.size(model));
        assertTrue(((Number) fin.get("accuracy")).doubleValue() > 0.9, fin.toString());
        List<?> layers = (List<?>) p.get("layers");
        assertEquals(3, layers.size());
        // the loaded model evaluates to the reported accuracy
        Path ev = dir.resolve("eval.json");
        assertEquals(0, run("eval", "--model", out.toString(), "--data", "mnist-10k", "--report", ev.toString()).code());
        assertEquals(((Number) fin.get("accuracy")).doubleValue(), number(readReport(ev), "accuracy"), 0.0);
    }

    @Test
    void structuredPruningRemovesUnitsForReal() throws Exception {
        Path out = dir.resolve("s.safetensors"), report = dir.resolve("s.json");
        MainTest.Run r = run("prune", "--model", model.toString(), "--data", "mnist-10k", "--method", "l2-structured", "--sparsity", "0.5",
                "--finetune-epochs", "1", "--runs", "0", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> p = readReport(report);
        assertEquals((4.0 + 32) / 72, 1 - number(p, "units_removed"), 1e-9);
        assertTrue(number(p, "structural_check_difference") <= 1e-5);
        Map<?, ?> fin = (Map<?, ?>) p.get("final"), base = (Map<?, ?>) p.get("baseline");
        assertTrue(((Number) fin.get("params")).doubleValue() < 0.55 * ((Number) base.get("params")).doubleValue());
        MainTest.Run ins = run("inspect", "--model", out.toString());
        assertTrue(ins.out().contains("conv(4,3,pad=1)") && ins.out().contains("linear(32)"), ins.out());
        MainTest.Run removed = run("prune", "--model", model.toString(), "--data", "mnist-10k", "--method", "remove-layer:4",
                "--finetune-epochs", "1", "--runs", "0", "--out", dir.resolve("r.safetensors").toString());
        assertEquals(0, removed.code(), removed.err());
        // the recipe the file records names only the options the method used
        String recorded = dev.whittle.engine.io.SafeTensors.read(dir.resolve("r.safetensors")).metadata().get("whittle.recipe");
        assertTrue(recorded.endsWith("prune --method remove-layer:4 --finetune-epochs 1 --lr 0.001 --seed 0"), recorded);
        // the input normalisation training recorded travels with the model
        String recordedNorm = dev.whittle.engine.io.SafeTensors.read(model).metadata().get(dev.whittle.engine.io.InputNormalization.KEY);
        assertTrue(recordedNorm != null && recordedNorm.contains("\"scale\":255.0"), String.valueOf(recordedNorm));
        assertEquals(recordedNorm, dev.whittle.engine.io.SafeTensors.read(out).metadata().get(dev.whittle.engine.io.InputNormalization.KEY));
        String structured = dev.whittle.engine.io.SafeTensors.read(out).metadata().get("whittle.recipe");
        assertTrue(structured.contains("--method l2-structured --sparsity 0.5 --finetune-epochs") && !structured.contains("--schedule"), structured);
    }

    @Test
    void badOptionsAreRejected() {
        String[] base = {"prune", "--model", model.toString(), "--data", "mnist-10k", "--out", dir.resolve("x.safetensors").toString()};
        assertRejected("--sparsity", MainTest.concat(base, "--sparsity", "1"));
        assertRejected("--method", MainTest.concat(base, "--method", "random"));
        assertRejected("--method", MainTest.concat(base, "--method", "remove-layer:x"));
        assertRejected("--scope", MainTest.concat(base, "--scope", "model"));
        assertRejected("--schedule", MainTest.concat(base, "--schedule", "iterative:0"));
        assertRejected("--schedule gradual", MainTest.concat(base, "--finetune-epochs", "0"));
        assertRejected("--rewind", MainTest.concat(base, "--rewind"));
        assertRejected("output layer", MainTest.concat(base, "--method", "remove-layer:6", "--finetune-epochs", "0"));
        assertRejected("has no batch norm", MainTest.concat(base, "--method", "bn-gamma"));
        assertRejected("is relu, not a Linear or Conv2d", MainTest.concat(base, "--method", "remove-layer:1"));
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }
}
