package dev.whittle.compress.report;

import java.util.List;

/**
 * GitHub Markdown tables of a compression run: one row per step with its accuracy, size and
 * speed beside the first step's, and one row per layer of a step.
 */
public final class MarkdownTable {

    private MarkdownTable() {}

    /**
     * The steps table: test accuracy and its change from the first step in percentage points, file
     * bytes and how many times smaller than the first step's file, header bytes, params, nonzeros,
     * batch-1 latency (p50, p95), batch-64 throughput, and the speedup of p50 over the first
     * step's; an en dash where a figure was not measured.
     */
    public static String render(List<StepMetrics> steps) {
        if (steps.isEmpty()) throw new IllegalArgumentException("a report needs at least one step");
        StepMetrics first = steps.getFirst();
        StringBuilder out = new StringBuilder();
        header(out, TableColumns.STEP_HEADERS);
        for (StepMetrics step : steps) row(out, TableColumns.stepCells(step, first));
        return out.toString();
    }

    /** One row per layer: index, layer, weight shape, bits, clusters, sparsity, format, bytes. */
    public static String layers(List<LayerRow> layers) {
        StringBuilder out = new StringBuilder();
        header(out, TableColumns.LAYER_HEADERS);
        for (LayerRow layer : layers) row(out, TableColumns.layerCells(layer));
        return out.toString();
    }

    private static void header(StringBuilder out, List<String> headers) {
        row(out, headers);
        out.append('|');
        for (int i = 0; i < headers.size(); i++) out.append(TableColumns.numeric(headers, i) ? "---:|" : "---|");
        out.append('\n');
    }

    private static void row(StringBuilder out, List<String> cells) {
        out.append('|');
        for (String cell : cells) out.append(' ').append(cell(cell)).append(" |");
        out.append('\n');
    }

    /** A cell's text with the characters that would end the cell or the row made harmless. */
    static String cell(String text) {
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ");
    }
}
