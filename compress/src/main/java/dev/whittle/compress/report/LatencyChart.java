package dev.whittle.compress.report;

import java.util.List;

/**
 * Chart of each step's batch-1 latency: a bar to the median, a thin line on to the 95th
 * percentile, and both figures written after it.
 */
final class LatencyChart {

    private static final double MARGIN = 16, PLOT_WIDTH = 520, ROW = 28, TOP = 14, AXIS_ROOM = 40;

    private LatencyChart() {}

    /** Whether any step was timed, so the chart has something to show. */
    static boolean anyTimed(List<StepMetrics> steps) {
        for (StepMetrics s : steps) if (Double.isFinite(s.latencyUsP50())) return true;
        return false;
    }

    static String svg(List<StepMetrics> steps) {
        double max = 0, nameWidth = 0;
        for (StepMetrics s : steps) {
            max = Math.max(max, finiteOr(s.latencyUsP95(), finiteOr(s.latencyUsP50(), 0)));
            nameWidth = Math.max(nameWidth, Svg.textWidth(s.name()));
        }
        double x0 = MARGIN + Math.min(nameWidth, 220) + 12;
        double bottom = TOP + steps.size() * ROW;
        double width = x0 + PLOT_WIDTH + 150;
        Scale x = Scale.linear(0, max, x0, x0 + PLOT_WIDTH, 4);
        Svg svg = new Svg(width, bottom + AXIS_ROOM, "Batch-1 latency of each step, median and 95th percentile");
        for (double v : x.ticks()) {
            svg.line(x.at(v), TOP - 4, x.at(v), bottom, "grid");
            svg.text(x.at(v), bottom + 16, "middle", "tick", Figures.tick(v));
        }
        svg.line(x0, bottom, x0 + PLOT_WIDTH, bottom, "axis");
        svg.text(x0 + PLOT_WIDTH / 2, bottom + 34, "middle", "axis-title", "Batch-1 latency (µs): bar to p50, line to p95");
        for (int i = 0; i < steps.size(); i++) {
            StepMetrics s = steps.get(i);
            double top = TOP + i * ROW, mid = top + ROW / 2;
            svg.text(x0 - 10, mid + 4, "end", "layer-label", Figures.shorten(s.name(), 32));
            if (!Double.isFinite(s.latencyUsP50())) {
                svg.text(x0 + 4, mid + 4, "start", "value-before", "not timed");
                continue;
            }
            double p50 = x.at(s.latencyUsP50());
            svg.rect(x0, mid - 7, p50 - x0, 14, "bar", "p50 " + Figures.micros(s.latencyUsP50()) + " µs");
            double end = p50;
            if (Double.isFinite(s.latencyUsP95())) {
                end = x.at(s.latencyUsP95());
                svg.line(p50, mid, end, mid, "whisker");
                svg.line(end, mid - 5, end, mid + 5, "whisker");
            }
            String text = Figures.micros(s.latencyUsP50()) + " / " + Figures.micros(s.latencyUsP95()) + " µs";
            svg.text(end + 8, mid + 4, "start", "value", text);
        }
        return svg.close();
    }

    private static double finiteOr(double v, double otherwise) {
        return Double.isFinite(v) ? v : otherwise;
    }
}
