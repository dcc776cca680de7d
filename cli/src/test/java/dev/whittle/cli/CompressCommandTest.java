package dev.whittle.cli;

import static dev.whittle.cli.MainTest.assertRejected;
import static dev.whittle.cli.MainTest.number;
import static dev.whittle.cli.MainTest.readReport;
import static dev.whittle.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.quant.QuantizedModel;
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

/** {@code whittle compress} end to end on the embedded digits: the chain, the budget, the report, the manifest, bad input. */
class CompressCommandTest {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path model;
    static int threadsBefore;

    @BeforeAll
    static void trainOnce() {
        threadsBefore = Parallel.threads();
        model = MainTest.trained(shared.resolve("mlp.safetensors"), "mlp(784,64,10)", 2);
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    private Path recipe(String text) throws IOException {
        Path p = dir.resolve("r" + System.nanoTime() + ".recipe");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void theChainShrinksTheModelOntoIntegerKernelsAndReportsEveryStep() throws Exception {
        Path out = dir.resolve("c.safetensors"), report = dir.resolve("c.json"), html = dir.resolve("c.html");
        Path r = recipe("prune sparsity=0.8 epochs=1\nshare clusters=8 epochs=1\nquantize samples=200\n");
        MainTest.Run run = run("compress", "--model", model.toString(), "--data", "mnist-10k", "--recipe", r.toString(), "--max-accuracy-drop", "5",
                "--runs", "5", "--out", out.toString(), "--report", report.toString(), "--html", html.toString());
        assertEquals(0, run.code(), run.err());
        Map<String, Object> rep = readReport(report);
        assertEquals("compress", rep.get("command"));
        List<?> steps = (List<?>) rep.get("steps");
        assertEquals(List.of("original", "prune", "share", "quantize"), steps.stream().map(s -> ((Map<?, ?>) s).get("name")).toList());
        @SuppressWarnings("unchecked")
        Map<String, Object> base = (Map<String, Object>) rep.get("baseline"), fin = (Map<String, Object>) rep.get("final");
        for (String k : List.of("accuracy", "file_bytes", "header_bytes", "params", "nonzeros", "latency_us_p50", "latency_us_p95", "throughput_per_s")) {
            assertTrue(base.get(k) instanceof Number && fin.get(k) instanceof Number, k);
        }
        assertEquals(Files.size(out), number(fin, "file_bytes"));
        assertEquals(number(base, "file_bytes") / number(fin, "file_bytes"), number(rep, "compression_ratio"), 1e-9);
        assertTrue(number(rep, "compression_ratio") > 10, "80% sparse, 8 shared values, coded: " + number(rep, "compression_ratio"));
        assertTrue(number(base, "accuracy") - number(fin, "accuracy") < 0.08);
        // the output runs on integer kernels, every weight layer with at most 8 distinct values
        assertTrue(ModelFile.load(out).model() instanceof QuantizedModel);
        Map<?, ?> last = (Map<?, ?>) steps.get(3);
        for (Object l : (List<?>) last.get("layers")) {
            Map<?, ?> layer = (Map<?, ?>) l;
            assertEquals(8, ((Number) layer.get("bits")).intValue());
            assertTrue(((Number) layer.get("clusters")).intValue() <= 8, layer.toString());
        }
        // the manifest: in the model's metadata, and in the report with the output's hash
        Map<?, ?> manifest = (Map<?, ?>) rep.get("manifest");
        String hash = SafeTensors.read(out).metadata().get(SafeTensors.SHA256_KEY);
        assertEquals(hash, manifest.get("output_sha256"));
        assertEquals(Json.parse(SafeTensors.read(out).metadata().get(CompressCommand.MANIFEST_KEY)),
                withoutKey(manifest, "output_sha256"));
        assertEquals(64, ((String) manifest.get("input_model_sha256")).length());
        assertTrue(((Map<?, ?>) manifest.get("data_sha256")).size() == 2);
        String page = Files.readString(html);
        for (String s : List.of("<svg", "original", "prune", "share", "quantize")) assertTrue(page.contains(s), s);
        assertTrue(run.out().contains("| quantize"), run.out());

        // the same command again: the same model, bit for bit
        Path again = dir.resolve("again.safetensors");
        MainTest.Run run2 = run("compress", "--model", model.toString(), "--data", "mnist-10k", "--recipe", r.toString(), "--max-accuracy-drop", "5",
                "--runs", "0", "--out", again.toString(), "--threads", "1");
        assertEquals(0, run2.code(), run2.err());
        assertEquals(hash, SafeTensors.read(again).metadata().get(SafeTensors.SHA256_KEY));
    }

    private static Map<Object, Object> withoutKey(Map<?, ?> m, String key) {
        Map<Object, Object> c = new java.util.LinkedHashMap<>(m);
        c.remove(key);
        return c;
    }

    @Test
    void aStepOverTheBudgetBacksOffAndOneThatCannotFitIsDropped() throws Exception {
        Path out = dir.resolve("b.safetensors"), report = dir.resolve("b.json");
        // pruning 99.9% without fine-tuning cannot keep within 0.5 points, nor can 99.8%: dropped; 30% can
        Path r = recipe("prune sparsity=0.999 schedule=oneshot epochs=0 tries=2\nprune sparsity=0.3 schedule=oneshot epochs=0 tries=1\n");
        MainTest.Run run = run("compress", "--model", model.toString(), "--data", "mnist-10k", "--recipe", r.toString(), "--max-accuracy-drop", "0.5",
                "--runs", "0", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("backing off: prune sparsity=0.998"), run.out());
        assertTrue(run.out().contains("step dropped"), run.out());
        Map<String, Object> rep = readReport(report);
        List<?> steps = (List<?>) rep.get("steps");
        assertEquals(List.of("original", "prune"), steps.stream().map(s -> ((Map<?, ?>) s).get("name")).toList());
        double val = number(rep, "validation_budget_accuracy");
        @SuppressWarnings("unchecked")
        Map<String, Object> fin = (Map<String, Object>) rep.get("final");
        assertTrue(number(fin, "validation_accuracy") >= val);
        assertFalse(rep.containsKey("speedup"), "--runs 0 times nothing");
    }

    @Test
    void badInputIsRefusedWithNothingWritten() throws IOException {
        Path out = dir.resolve("x.safetensors");
        assertRejected("squeeze", "compress", "--model", model.toString(), "--recipe", recipe("squeeze hard").toString(), "--out", out.toString());
        assertRejected("sparsity=2", "compress", "--model", model.toString(), "--recipe", recipe("prune sparsity=2").toString(), "--out", out.toString());
        assertRejected("does not exist", "compress", "--model", model.toString(), "--recipe", dir.resolve("none.recipe").toString(), "--out", out.toString());
        assertRejected("is not UTF-8 text", "compress", "--model", model.toString(), "--recipe", model.toString(), "--out", out.toString());
        assertRejected("--student-arch", "compress", "--model", model.toString(), "--steps", "distill,quantize", "--out", out.toString());
        assertRejected("--max-accuracy-drop", "compress", "--model", model.toString(), "--max-accuracy-drop", "-1", "--out", out.toString());
        assertRejected("unknown step", "compress", "--model", model.toString(), "--steps", "prune,fold", "--out", out.toString());
        assertRejected("[1, 28, 28]", "compress", "--model", model.toString(), "--data", "csv:" + writeCsv(), "--out", out.toString());
        // a student with the wrong class count: refused before the baseline, not a crash in the distill step
        MainTest.Run student = assertRejected("outputs [7]", "compress", "--model", model.toString(), "--runs", "0",
                "--student-arch", "mlp(784,32,7)", "--out", out.toString());
        assertFalse(student.out().contains("recipe"), student.out());
        assertRejected("outputs [7]", "compress", "--model", model.toString(), "--recipe", recipe("distill student=mlp(784,32,7)").toString(),
                "--out", out.toString());
        assertFalse(Files.exists(out));
        // the demo's --runs is checked before the teacher is trained, nothing written
        Path demo = dir.resolve("demo-rejected");
        assertRejected("--runs", "demo", "--runs", "3", "--out-dir", demo.toString());
        assertFalse(Files.exists(demo));
    }

    @Test
    void theDemoRunsEveryStageAndWritesItsReport() throws Exception {
        Path out = dir.resolve("demo");
        MainTest.Run r = run("demo", "--out-dir", out.toString(), "--runs", "5");
        assertEquals(0, r.code(), r.err());
        for (String s : List.of("| distill", "| prune", "| share", "| quantize", "herding", "report.html")) assertTrue(r.out().contains(s), s + "\n" + r.out());
        assertTrue(Files.readString(out.resolve("report.html")).contains("<svg"));
        assertTrue(ModelFile.load(out.resolve("student-int8.safetensors")).model() instanceof QuantizedModel);
        // a second run reuses the folder
        assertEquals(0, run("demo", "--out-dir", out.toString(), "--runs", "5").code());
    }

    private Path writeCsv() throws IOException {
        Path csv = dir.resolve("t.csv");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40; i++) b.append(i % 7).append(',').append(i % 3).append(',').append(i % 2).append('\n');
        Files.writeString(csv, b.toString());
        return csv;
    }
}
