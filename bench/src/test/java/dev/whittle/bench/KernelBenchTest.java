package dev.whittle.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.io.Json;
import dev.whittle.kernels.Kernels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The kernel benchmark's cases, its timing loop and its report's shape (no speed is asserted). */
class KernelBenchTest {

    @Test
    void casesCoverTheSquaresTheLenetProductsAndGemv() {
        List<KernelCase> cases = KernelBench.cases();
        for (int s : new int[] {256, 512, 1024, 2048}) {
            assertTrue(cases.contains(KernelCase.sgemm("nn", s, s, s, "square")), "square " + s);
        }
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("128x300x784") && c.layout().equals("nt")));
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("300x784x128") && c.layout().equals("tn")));
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("128x784x300") && c.layout().equals("nn")));
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("6x784x25")));
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("16x100x150")));
        assertTrue(cases.stream().anyMatch(c -> c.shape().equals("128x120x400")));
        assertTrue(cases.stream().anyMatch(c -> c.kernel().equals("sgemv") && c.shape().equals("4096x4096")));
        assertEquals(2.0 * 4096 * 4096, KernelCase.sgemv(4096, 4096, "x").flops());
    }

    @Test
    void operationsComputeTheProductTheyName() {
        // the timed call is the real kernel: a 2x3x4 NT product of ones gives 4 everywhere
        KernelCase c = KernelCase.sgemm("nt", 2, 3, 4, "tiny");
        Runnable op = KernelBench.operation(c, Kernels.fp32());
        op.run();
        double t = Timing.medianSeconds(op, 0.01, 0.02);
        assertTrue(t > 0 && t < 1, "seconds per call " + t);
    }

    @Test
    @SuppressWarnings("unchecked")
    void reportHasCommandSettingsAndOneRowPerResult() {
        KernelCase c = KernelCase.sgemm("nn", 4, 5, 6, "square");
        List<KernelBench.Result> results = List.of(new KernelBench.Result(c, 2, 1e-6, Double.NaN),
                new KernelBench.Result(KernelCase.sgemv(8, 8, "v"), 2, 2e-6, 1e-6));
        Map<String, Object> report = (Map<String, Object>) Json.parse(Json.writePretty(KernelBench.report(results, 2, null, KernelBench.ROUNDS)));
        assertEquals("bench kernels", report.get("command"));
        assertEquals(2L, ((Map<String, Object>) report.get("settings")).get("threads"));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) report.get("results");
        assertEquals(2, rows.size());
        assertEquals("sgemm", rows.get(0).get("kernel"));
        assertEquals(4L, rows.get(0).get("m"));
        assertEquals(0.24, ((Number) rows.get(0).get("gflops")).doubleValue(), 1e-9);
        assertFalse(rows.get(0).containsKey("ratio"));
        assertEquals(0.5, ((Number) rows.get(1).get("ratio")).doubleValue(), 1e-9);
        assertEquals(0.13, ((Number) rows.get(1).get("peer_gflops")).doubleValue(), 1e-9);
    }

    @Test
    @SuppressWarnings("unchecked")
    void roundsThatDisagreeAreFlaggedInTheTableAndReportedInJson() {
        KernelCase c = KernelCase.sgemv(8, 8, "v");
        KernelBench.Result steady = new KernelBench.Result(c, 1, 1e-6, 2e-6, Double.NaN, 1.9, 2.1);
        KernelBench.Result unsteady = new KernelBench.Result(c, 1, 1e-6, 2e-6, Double.NaN, 1.5, 2.5);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream o = new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8);
        KernelBench.printRow(o, steady);
        KernelBench.printFooter(o, List.of(steady));
        assertFalse(out.toString(java.nio.charset.StandardCharsets.UTF_8).contains("rounds"));
        KernelBench.printRow(o, unsteady);
        KernelBench.printFooter(o, List.of(steady, unsteady));
        String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.contains("[rounds 1.50-2.50x]"), text);
        assertTrue(text.contains("the host was busy"), text);
        Map<String, Object> report = (Map<String, Object>) Json.parse(Json.writePretty(KernelBench.report(List.of(unsteady), 1, null, KernelBench.ROUNDS)));
        Map<String, Object> row = ((List<Map<String, Object>>) report.get("results")).get(0);
        assertEquals(1.5, ((Number) row.get("ratio_round_low")).doubleValue(), 1e-9);
        assertEquals(2.5, ((Number) row.get("ratio_round_high")).doubleValue(), 1e-9);
    }

    @Test
    void selectPicksCasesByKernelShapeOrPartOfTheLabel() {
        List<KernelCase> cases = KernelBench.cases();
        assertEquals(List.of("sgemv"), KernelBench.select(cases, "sgemv").stream().map(KernelCase::kernel).toList());
        assertEquals(List.of("2048x2048x2048"), KernelBench.select(cases, "2048x2048x2048").stream().map(KernelCase::shape).toList());
        List<KernelCase> lenet5 = KernelBench.select(cases, "lenet5");
        assertEquals(14, lenet5.size(), lenet5.toString());  // conv1 2, conv2 3, fc1-fc3 3 each
        assertTrue(lenet5.stream().allMatch(c -> c.label().contains("lenet5")));
        assertTrue(KernelBench.select(cases, "sgemm4").isEmpty());
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, KernelBench.median(new double[] {10, 1, 3, 2}));
        assertEquals(3.0, KernelBench.median(new double[] {5, 3, 1}));
    }

    @Test
    void runTakesTheRoundsItIsGivenAndRefusesNone() throws java.io.IOException {
        KernelCase c = KernelCase.sgemm("nn", 7, 9, 5, "tiny");
        List<KernelBench.Result> seen = new java.util.ArrayList<>();
        List<KernelBench.Result> results = KernelBench.run(List.of(c), 1, null, 2, seen::add);
        assertEquals(results, seen);
        assertEquals(1, results.size());
        assertTrue(results.get(0).seconds() > 0 && !results.get(0).hasPeer());
        assertThrows(IllegalArgumentException.class, () -> KernelBench.run(List.of(c), 1, null, 0, r -> { }));
    }
}
