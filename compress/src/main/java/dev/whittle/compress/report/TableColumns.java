package dev.whittle.compress.report;

import java.util.List;

/**
 * The columns of the steps table and of a per-layer table, with each cell already written, so
 * the Markdown and HTML renderings cannot disagree. Every "vs first" figure compares a step with
 * the first step of the run (normally the original model).
 */
final class TableColumns {

    /** Headers of the steps table. */
    static final List<String> STEP_HEADERS = List.of("Step", "Test accuracy", "vs first", "File bytes", "Size vs first",
            "Header bytes", "Params", "Nonzeros", "p50 µs", "p95 µs", "Throughput/s", "Speedup");

    /** Headers of a per-layer table. */
    static final List<String> LAYER_HEADERS = List.of("#", "Layer", "Shape", "Bits", "Clusters", "Sparsity", "Format", "Bytes");

    private TableColumns() {}

    /** Whether column {@code i} of either table holds figures (right-aligned); the step name and layer text do not. */
    static boolean numeric(List<String> headers, int i) {
        String h = headers.get(i);
        return !h.equals("Step") && !h.equals("Layer") && !h.equals("Format");
    }

    /** The cells of one step's row; {@code first} is the step everything is compared with. */
    static List<String> stepCells(StepMetrics step, StepMetrics first) {
        return List.of(
                step.name(),
                Figures.percent(step.accuracy()),
                Figures.points(first.accuracy(), step.accuracy()),
                Figures.count(step.fileBytes()),
                Figures.sizeRatio(first.fileBytes(), step.fileBytes()),
                Figures.count(step.headerBytes()),
                Figures.count(step.params()),
                Figures.count(step.nonzeros()),
                Figures.micros(step.latencyUsP50()),
                Figures.micros(step.latencyUsP95()),
                Figures.perSecond(step.throughputPerSecond()),
                Figures.speedup(first.latencyUsP50(), step.latencyUsP50()));
    }

    /** The cells of one layer's row. */
    static List<String> layerCells(LayerRow row) {
        return List.of(
                Integer.toString(row.index()),
                row.layer(),
                Figures.shape(row.shape()),
                Integer.toString(row.bits()),
                row.clusters() == 0 ? Figures.MISSING : Integer.toString(row.clusters()),
                Figures.sparsity(row.sparsity()),
                row.format(),
                Figures.count(row.bytes()));
    }
}
