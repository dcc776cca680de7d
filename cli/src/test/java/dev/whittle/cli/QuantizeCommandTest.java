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

/** {@code whittle quantize} end to end on the embedded digits, its report, inspect of the result, and refused input. */
class QuantizeCommandTest {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path model;
    static int threadsBefore;

    @BeforeAll
    static void trainOnce() {
        threadsBefore = Parallel.threads();
        model = MainTest.trained(shared.resolve("cnn.safetensors"), "conv(4,3,pad=1) relu maxpool(2) flatten linear(32) relu linear(10)", 1);
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void int8ReportHasBaselineFinalAndLayers() throws IOException {
        Path out = dir.resolve("q8.safetensors"), report = dir.resolve("q8.json");
        MainTest.Run r = run("quantize", "--model", model.toString(), "--data", "mnist-10k", "--calib-samples", "200",
                "--runs", "5", "--sensitivity", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> q = readReport(report);
        assertEquals("quantize", q.get("command"));
        Map<?, ?> base = (Map<?, ?>) q.get("baseline"), fin = (Map<?, ?>) q.get("final");
        for (String k : List.of("accuracy", "file_bytes", "header_bytes", "params", "nonzeros", "latency_us_p50", "latency_us_p95",
                "throughput_per_s")) {
            assertTrue(base.get(k) instanceof Number && fin.get(k) instanceof Number, k + " missing: " + q);
        }
        assertEquals(Files.size(out), ((Number) fin.get("file_bytes")).longValue());
        assertEquals(Files.size(model), ((Number) base.get("file_bytes")).longValue());
        try {
            // the input normalisation training recorded travels with the quantized model
            String key = dev.whittle.engine.io.InputNormalization.KEY;
            String recorded = dev.whittle.engine.io.SafeTensors.read(model).metadata().get(key);
            assertTrue(recorded != null, "the trained model records no " + key);
            assertEquals(recorded, dev.whittle.engine.io.SafeTensors.read(out).metadata().get(key));
        } catch (dev.whittle.engine.BadInputException e) {
            throw new AssertionError(e);
        }
        assertEquals(((Number) base.get("file_bytes")).doubleValue() / ((Number) fin.get("file_bytes")).doubleValue(),
                number(q, "compression_ratio"), 1e-12);
        assertTrue(number(q, "compression_ratio") > 3, q.toString());
        assertTrue(Math.abs(((Number) base.get("accuracy")).doubleValue() - ((Number) fin.get("accuracy")).doubleValue()) < 0.01, q.toString());
        List<?> layers = (List<?>) q.get("layers");
        assertEquals(3, layers.size());
        Map<?, ?> first = (Map<?, ?>) layers.get(0);
        assertEquals(8L, first.get("bits"));
        assertEquals("channel", first.get("granularity"));
        assertTrue(first.get("sensitivity_drop_points") instanceof Number, first.toString());
        assertTrue(((Number) first.get("scale_min")).doubleValue() <= ((Number) first.get("scale_max")).doubleValue());

        // the quantized file evaluates to the accuracy reported, and inspect shows bits and granularity
        Path evalReport = dir.resolve("eval.json");
        assertEquals(0, run("eval", "--model", out.toString(), "--data", "mnist-10k", "--report", evalReport.toString()).code());
        assertEquals(((Number) fin.get("accuracy")).doubleValue(), number(readReport(evalReport), "accuracy"), 0.0);
        MainTest.Run ins = run("inspect", "--model", out.toString());
        assertEquals(0, ins.code(), ins.err());
        assertTrue(ins.out().contains("(quantized)") && ins.out().contains("channel") && ins.out().contains("I8"), ins.out());
    }

    @Test
    void int4WithGptqAndQatRuns() throws IOException {
        Path out = dir.resolve("q4.safetensors"), report = dir.resolve("q4.json");
        MainTest.Run r = run("quantize", "--model", model.toString(), "--data", "mnist-10k", "--bits", "4", "--weights", "group:32",
                "--method", "gptq", "--bias-correction", "--calib-samples", "300", "--runs", "0", "--out", out.toString(),
                "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<?, ?> fin = (Map<?, ?>) readReport(report).get("final");
        assertTrue(Files.size(out) * 6 < Files.size(model), Files.size(out) + " bytes");
        assertFalse(fin.containsKey("latency_us_p50"));
        MainTest.Run ins = run("inspect", "--model", out.toString());
        assertTrue(ins.out().contains("group 32") && ins.out().contains("U8") && ins.out().contains("F16"), ins.out());
        MainTest.Run qat = run("quantize", "--model", model.toString(), "--data", "mnist-10k", "--bits", "4", "--qat-epochs", "1",
                "--equalize", "--runs", "0", "--out", dir.resolve("qat.safetensors").toString());
        assertEquals(0, qat.code(), qat.err());
        assertTrue(qat.out().contains("1/1"), qat.out());
    }

    @Test
    void badOptionsAreRejectedBeforeAnyWork() throws IOException {
        String[] base = {"quantize", "--model", model.toString(), "--data", "mnist-10k", "--out", dir.resolve("x.safetensors").toString()};
        assertRejected("--bits", MainTest.concat(base, "--bits", "3"));
        assertRejected("nothing is left to quantize", MainTest.concat(base, "--keep-float", "0,4,6"));
        assertRejected("--weights", MainTest.concat(base, "--bits", "4", "--weights", "channel"));
        assertRejected("--weights", MainTest.concat(base, "--weights", "group:48", "--bits", "4"));
        assertRejected("--weights", MainTest.concat(base, "--weights", "group:64"));
        assertRejected("--activations", MainTest.concat(base, "--activations", "32"));
        assertRejected("--calibration", MainTest.concat(base, "--calibration", "percentile:0"));
        assertRejected("--calibration", MainTest.concat(base, "--calibration", "magic"));
        assertRejected("--method", MainTest.concat(base, "--method", "adaround"));
        assertRejected("--scheme", MainTest.concat(base, "--scheme", "both"));
        assertRejected("--keep-float", MainTest.concat(base, "--keep-float", "1"));
        assertRejected("--calib-samples", MainTest.concat(base, "--calib-samples", "0"));
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
        // a quantized model cannot be quantized again
        Path q = dir.resolve("q.safetensors");
        assertEquals(0, run("quantize", "--model", model.toString(), "--data", "mnist-10k", "--runs", "0", "--calib-samples", "50",
                "--out", q.toString()).code());
        assertRejected("quantized model", "quantize", "--model", q.toString(), "--data", "mnist-10k", "--out", dir.resolve("y.safetensors").toString());
        // a model for other inputs
        assertRejected("takes inputs", "quantize", "--model", model.toString(), "--data", "csv:" + MainTest.writeCsv(dir.resolve("t.csv")),
                "--out", dir.resolve("z.safetensors").toString());
    }
}
