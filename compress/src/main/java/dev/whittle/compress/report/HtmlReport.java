package dev.whittle.compress.report;

import dev.whittle.engine.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * The report of a compression run as one self-contained HTML page: no scripts, no fonts or
 * style sheets from the network, charts drawn as inline SVG. It holds a one-line summary (how
 * much smaller, how much accuracy moved, how much faster the last step is than the first), the
 * steps table, a chart of accuracy against file size with the accuracy budget, a chart of the
 * last step's per-layer sparsity and bits, a latency chart, each step's layers, and the run's
 * manifest. The page is also well-formed XML, and the same input always gives the same bytes.
 */
public final class HtmlReport {

    private HtmlReport() {}

    /**
     * The page for {@code steps} (the first is what everything is compared with).
     * {@code manifest} holds what makes the run repeatable (version, seeds, recipe, hashes): maps
     * with string keys, lists, strings, numbers and booleans. {@code maxAccuracyDropPoints} is the
     * run's accuracy budget in percentage points, drawn as a line on the accuracy chart; NaN for
     * none.
     */
    public static String render(String title, List<StepMetrics> steps, Map<String, Object> manifest, double maxAccuracyDropPoints) {
        if (steps.isEmpty()) throw new IllegalArgumentException("a report needs at least one step");
        StepMetrics first = steps.getFirst(), last = steps.getLast();
        StringBuilder out = new StringBuilder();
        out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
                .append("<title>").append(Markup.escape(title)).append("</title>\n")
                .append("<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n<main>\n");
        out.append("<header>\n<h1>").append(Markup.escape(title)).append("</h1>\n<p class=\"summary\">")
                .append(Markup.escape(summary(steps, maxAccuracyDropPoints))).append("</p>\n</header>\n");

        section(out, "steps", "Steps", stepsTable(steps));
        section(out, "accuracy", "Accuracy versus size", figure(AccuracySizeChart.svg(steps, maxAccuracyDropPoints),
                "One point per step, joined in step order; the hollow point is " + first.name() + "."
                        + (Double.isFinite(maxAccuracyDropPoints)
                                ? " The dashed line is the accuracy budget: " + first.name() + "'s accuracy less "
                                        + Figures.format("%.2f", maxAccuracyDropPoints) + " points."
                                : "")));
        if (!last.layers().isEmpty()) {
            boolean compared = first != last && LayerChart.lineUp(first.layers(), last.layers());
            section(out, "layers", "Per-layer bits and sparsity", figure(LayerChart.svg(first, last),
                    "Layers of " + last.name() + (compared ? ", with " + first.name() + "'s as pale bars." : ".")));
        }
        if (LatencyChart.anyTimed(steps)) section(out, "latency", "Latency", figure(LatencyChart.svg(steps), null));
        section(out, "layers-per-step", "Layers per step", layersPerStep(steps));
        section(out, "manifest", "Manifest", manifest(manifest));
        out.append("</main>\n</body>\n</html>\n");
        return out.toString();
    }

    /**
     * The last step against the first in one line: "41.3x smaller · accuracy +0.33 pt (88.57% →
     * 88.90%; budget -1.00 pt) · 2.50x speedup (p50 30.0 → 12.0 µs)".
     */
    static String summary(List<StepMetrics> steps, double maxAccuracyDropPoints) {
        StepMetrics first = steps.getFirst(), last = steps.getLast();
        if (steps.size() == 1) {
            return first.name() + ": " + Figures.percent(first.accuracy()) + " test accuracy · " + Figures.count(first.fileBytes())
                    + " bytes · p50 " + Figures.micros(first.latencyUsP50()) + " µs";
        }
        String budget = Double.isFinite(maxAccuracyDropPoints) ? "; budget " + Figures.signed(-maxAccuracyDropPoints, 2) + " pt" : "";
        return Figures.sizeRatio(first.fileBytes(), last.fileBytes())
                + " (" + Figures.bytes(first.fileBytes()) + " → " + Figures.bytes(last.fileBytes()) + ")"
                + " · accuracy " + Figures.points(first.accuracy(), last.accuracy())
                + " (" + Figures.percent(first.accuracy()) + " → " + Figures.percent(last.accuracy()) + budget + ")"
                + " · " + Figures.speedup(first.latencyUsP50(), last.latencyUsP50()) + " speedup"
                + " (p50 " + Figures.micros(first.latencyUsP50()) + " → " + Figures.micros(last.latencyUsP50()) + " µs)";
    }

    private static void section(StringBuilder out, String id, String heading, String body) {
        out.append("<section id=\"").append(id).append("\">\n<h2>").append(Markup.escape(heading)).append("</h2>\n").append(body).append("</section>\n");
    }

    private static String figure(String svg, String caption) {
        return "<figure>\n" + svg + (caption == null ? "" : "<figcaption>" + Markup.escape(caption) + "</figcaption>\n") + "</figure>\n";
    }

    /** A scrolling table's opening and header row, ready for its body rows. */
    private static StringBuilder tableHead(List<String> headers) {
        StringBuilder out = new StringBuilder("<div class=\"scroll\">\n<table>\n<thead>\n<tr>");
        for (int i = 0; i < headers.size(); i++) cell(out, "th", headers.get(i), TableColumns.numeric(headers, i) ? "num" : null);
        return out.append("</tr>\n</thead>\n<tbody>\n");
    }

    /** The Markdown table's columns, with each step's note written small under its name. */
    private static String stepsTable(List<StepMetrics> steps) {
        List<String> headers = TableColumns.STEP_HEADERS;
        StringBuilder out = tableHead(headers);
        for (StepMetrics step : steps) {
            List<String> cells = TableColumns.stepCells(step, steps.getFirst());
            out.append("<tr><td class=\"step\"><strong>").append(Markup.escape(step.name())).append("</strong>");
            if (step.note() != null && !step.note().isBlank()) out.append("<span class=\"note\">").append(Markup.escape(step.note())).append("</span>");
            out.append("</td>");
            for (int i = 1; i < cells.size(); i++) cell(out, "td", cells.get(i), TableColumns.numeric(headers, i) ? "num" : null);
            out.append("</tr>\n");
        }
        return out.append("</tbody>\n</table>\n</div>\n").toString();
    }

    private static String layersPerStep(List<StepMetrics> steps) {
        StringBuilder out = new StringBuilder();
        for (StepMetrics step : steps) {
            out.append(step == steps.getLast() ? "<details open=\"open\">" : "<details>").append("\n<summary><strong>").append(Markup.escape(step.name())).append("</strong> · ")
                    .append(step.layers().size()).append(step.layers().size() == 1 ? " layer" : " layers")
                    .append(" · validation accuracy ").append(Figures.percent(step.validationAccuracy()))
                    .append(" · ").append(Figures.duration(step.seconds())).append("</summary>\n");
            if (step.layers().isEmpty()) out.append("<p class=\"muted\">No layers recorded.</p>\n");
            else out.append(layerTable(step.layers()));
            out.append("</details>\n");
        }
        return out.toString();
    }

    private static String layerTable(List<LayerRow> layers) {
        List<String> headers = TableColumns.LAYER_HEADERS;
        StringBuilder out = tableHead(headers);
        for (LayerRow layer : layers) {
            List<String> cells = TableColumns.layerCells(layer);
            out.append("<tr>");
            for (int i = 0; i < cells.size(); i++) cell(out, "td", cells.get(i), TableColumns.numeric(headers, i) ? "num" : null);
            out.append("</tr>\n");
        }
        return out.append("</tbody>\n</table>\n</div>\n").toString();
    }

    private static void cell(StringBuilder out, String tag, String text, String cssClass) {
        out.append('<').append(tag);
        if (cssClass != null) out.append(" class=\"").append(cssClass).append('"');
        out.append('>').append(Markup.escape(text)).append("</").append(tag).append('>');
    }

    /** The manifest as a definition list: plain values as text, nested ones as indented JSON. */
    private static String manifest(Map<String, Object> manifest) {
        if (manifest == null || manifest.isEmpty()) return "<p class=\"muted\">No manifest.</p>\n";
        StringBuilder out = new StringBuilder("<dl class=\"manifest\">\n");
        for (Map.Entry<?, ?> e : ((Map<?, ?>) ordered(manifest)).entrySet()) {
            out.append("<dt>").append(Markup.escape(String.valueOf(e.getKey()))).append("</dt>\n<dd>");
            Object v = e.getValue();
            if (v instanceof Map<?, ?> || v instanceof Iterable<?> || v != null && v.getClass().isArray()) {
                out.append("<pre>").append(Markup.escape(Json.writePretty(v))).append("</pre>");
            } else {
                out.append("<code>").append(Markup.escape(v instanceof String s ? s : Json.write(v))).append("</code>");
            }
            out.append("</dd>\n");
        }
        return out.append("</dl>\n").toString();
    }

    /**
     * {@code value} with every map whose order is not defined (a {@code Map.of}, a
     * {@code HashMap}) put in key order, so the page does not change from one run to the next.
     */
    static Object ordered(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = map instanceof SequencedMap<?, ?> ? new LinkedHashMap<>() : new TreeMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) out.put(String.valueOf(e.getKey()), ordered(e.getValue()));
            return out;
        }
        if (value instanceof Iterable<?> items) {
            List<Object> out = new ArrayList<>();
            for (Object item : items) out.add(ordered(item));
            return out;
        }
        return value;
    }

    /** One accent colour, light grid lines, the system's own fonts: nothing to fetch. */
    private static final String STYLE = """
            :root { --accent: #2563eb; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --faint: #f3f4f6; }
            body { margin: 0; background: #fff; color: var(--ink); line-height: 1.45;
                   font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
            main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 56px; }
            h1 { font-size: 24px; font-weight: 650; margin: 0 0 6px; }
            h2 { font-size: 16px; font-weight: 650; margin: 40px 0 14px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
            .summary { font-size: 15px; color: var(--muted); margin: 0; }
            .muted { color: var(--muted); }
            .scroll { overflow-x: auto; }
            table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
            th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; vertical-align: top; }
            th { font-size: 12px; font-weight: 600; color: var(--muted); white-space: normal; vertical-align: bottom; }
            th.num, td.num { text-align: right; }
            td.step { white-space: normal; min-width: 160px; max-width: 280px; }
            td.step .note { display: block; font-size: 12px; color: var(--muted); }
            tbody tr:hover { background: var(--faint); }
            figure { margin: 0; }
            figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
            svg.chart { display: block; max-width: 100%; height: auto; font-family: inherit; font-size: 12px; }
            .grid { stroke: #eceef1; stroke-width: 1; }
            .axis { stroke: #9ca3af; stroke-width: 1; }
            .tick { fill: var(--muted); font-size: 11px; }
            .axis-title, .panel-title { fill: var(--muted); font-size: 12px; }
            .panel-title { font-weight: 600; }
            .legend, .layer-label, .detail { fill: var(--ink); font-size: 12px; }
            .detail { fill: var(--muted); }
            .path { fill: none; stroke: var(--accent); stroke-width: 1.5; stroke-opacity: 0.45; }
            .point { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
            .point.first { fill: #fff; stroke: var(--accent); stroke-width: 2; }
            .point-label { fill: var(--ink); font-size: 12px; }
            .budget { stroke: #6b7280; stroke-width: 1.2; stroke-dasharray: 6 4; }
            .budget-label { fill: var(--muted); font-size: 11px; }
            .below-budget { fill: var(--faint); }
            .bar { fill: var(--accent); }
            .bar-before { fill: #cbd5e1; }
            .value { fill: var(--ink); font-size: 11px; }
            .value-before { fill: var(--muted); font-size: 10px; }
            .whisker { stroke: var(--accent); stroke-width: 1.5; }
            details { border-bottom: 1px solid var(--line); padding: 8px 0; }
            summary { cursor: pointer; }
            details table { margin: 10px 0 6px; }
            dl.manifest { display: grid; grid-template-columns: max-content 1fr; gap: 6px 20px; margin: 0; }
            dt { font-weight: 600; color: var(--muted); }
            dd { margin: 0; min-width: 0; }
            code, pre { font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
            code { overflow-wrap: anywhere; }
            pre { margin: 0; padding: 10px 14px; background: var(--faint); border-radius: 4px; overflow-x: auto;
                  width: fit-content; max-width: 100%; box-sizing: border-box; }
            """;
}
