package dev.whittle.cli;

import dev.whittle.engine.Model;
import java.util.LinkedHashMap;
import java.util.Map;

/** The figures DESIGN.md's reports share: accuracy, params, nonzeros, and file sizes where a file exists. */
final class ModelStats {

    private ModelStats() {}

    static long nonzeroWeights(Model model) {
        return dev.whittle.compress.report.LayerTable.nonzeroWeights(model);
    }

    static Map<String, Object> of(Model model, double accuracy, Long fileBytes, Long headerBytes) {
        return of(accuracy, fileBytes, headerBytes, model.parameterCount(), nonzeroWeights(model));
    }

    /** The same fields for a step of {@code whittle compress}, with its timing where it was measured. */
    static Map<String, Object> of(dev.whittle.compress.report.StepMetrics s) {
        Map<String, Object> m = of(s.accuracy(), s.fileBytes(), s.headerBytes(), s.params(), s.nonzeros());
        if (!Double.isNaN(s.validationAccuracy())) m.put("validation_accuracy", s.validationAccuracy());
        if (!Double.isNaN(s.latencyUsP50())) {
            m.put("latency_us_p50", s.latencyUsP50());
            m.put("latency_us_p95", s.latencyUsP95());
            m.put("throughput_per_s", s.throughputPerSecond());
        }
        return m;
    }

    private static Map<String, Object> of(double accuracy, Long fileBytes, Long headerBytes, long params, long nonzeros) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", accuracy);
        if (fileBytes != null) m.put("file_bytes", fileBytes);
        if (headerBytes != null) m.put("header_bytes", headerBytes);
        m.put("params", params);
        m.put("nonzeros", nonzeros);
        return m;
    }

    /** Batch-1 latency and batch-64 throughput under the report names of DESIGN.md. */
    static void putTiming(Map<String, Object> m, dev.whittle.compress.report.InferenceTiming.Result t) {
        m.put("latency_us_p50", t.latencyUsP50());
        m.put("latency_us_p95", t.latencyUsP95());
        m.put("throughput_per_s", t.throughputPerSecond());
    }

    /** Per-epoch figures of a training run for a report (test figures only where they were measured). */
    static java.util.List<Object> epochs(java.util.List<dev.whittle.engine.train.EpochStats> history) {
        java.util.List<Object> rows = new java.util.ArrayList<>();
        for (dev.whittle.engine.train.EpochStats e : history) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("lr", e.learningRate());
            m.put("train_loss", e.trainLoss());
            m.put("train_accuracy", e.trainAccuracy());
            if (!Double.isNaN(e.testAccuracy())) {
                m.put("test_loss", e.testLoss());
                m.put("test_accuracy", e.testAccuracy());
            }
            m.put("seconds", e.seconds());
            rows.add(m);
        }
        return rows;
    }

    /** Refuses a model whose input shape is not the dataset's samples. */
    static void checkInputs(java.nio.file.Path file, Model model, String data, int[] sampleShape) throws dev.whittle.engine.BadInputException {
        if (!java.util.Arrays.equals(model.inputShape(), sampleShape)) {
            throw new dev.whittle.engine.BadInputException(file + ": the model takes inputs " + java.util.Arrays.toString(model.inputShape())
                    + " but " + data + " has samples of " + java.util.Arrays.toString(sampleShape));
        }
    }
}
