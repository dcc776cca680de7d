package dev.whittle.compress.report;

import java.util.List;

/**
 * What one step of a compression run left behind, measured: test accuracy (a fraction),
 * validation accuracy (the split the accuracy budget is judged on; NaN where not measured), the
 * saved file's bytes and JSON header bytes, stored parameters and nonzero weights, batch-1
 * latency (microseconds, median and 95th percentile) and batch-64 throughput (samples per
 * second; NaN where not timed), the step's wall time, its layers, and a one-line note of what it
 * did (settings, back-offs).
 */
public record StepMetrics(String name, double accuracy, double validationAccuracy, long fileBytes, long headerBytes, long params,
                          long nonzeros, double latencyUsP50, double latencyUsP95, double throughputPerSecond, double seconds,
                          List<LayerRow> layers, String note) {

    public StepMetrics {
        layers = List.copyOf(layers);
    }
}
