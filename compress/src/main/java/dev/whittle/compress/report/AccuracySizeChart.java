package dev.whittle.compress.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Chart of test accuracy against file size, one labelled point per step joined in step order,
 * with the accuracy budget (the first step's accuracy less the allowed drop) as a dashed line.
 * Size is on a log scale that runs from large on the left to small on the right, so a run that
 * compresses well reads left to right and one that keeps its accuracy stays level.
 */
final class AccuracySizeChart {

    static final double WIDTH = 880, HEIGHT = 420;
    static final double LEFT = 64, RIGHT = WIDTH - 28, TOP = 24, BOTTOM = HEIGHT - 58;
    private static final double LABEL_HEIGHT = 14, POINT_RADIUS = 4.5;

    /** An area of the chart that a label must not cover. */
    private record Box(double x, double y, double w, double h) {
        boolean overlaps(Box o) {
            return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
        }

        boolean inside(double left, double top, double right, double bottom) {
            return x >= left && x + w <= right && y >= top && y + h <= bottom;
        }
    }

    private AccuracySizeChart() {}

    /** The chart; {@code maxDropPoints} may be NaN for a run without an accuracy budget. */
    static String svg(List<StepMetrics> steps, double maxDropPoints) {
        double budget = 100 * steps.getFirst().accuracy() - maxDropPoints;
        Scale x = sizeScale(steps);
        Scale y = accuracyScale(steps, budget);
        Svg svg = new Svg(WIDTH, HEIGHT, "Test accuracy against file size, one point per step");
        if (Double.isFinite(budget)) svg.rect(LEFT, y.at(budget), RIGHT - LEFT, BOTTOM - y.at(budget), "below-budget", null);
        grid(svg, x, y);
        List<StepMetrics> shown = new ArrayList<>();
        List<double[]> at = new ArrayList<>();
        List<Box> taken = new ArrayList<>(); // points first, so the budget label and step names can keep off them
        for (StepMetrics s : steps) {
            if (!Double.isFinite(s.accuracy())) continue;
            double[] p = {x.at(Math.max(1, s.fileBytes())), y.at(100 * s.accuracy())};
            shown.add(s);
            at.add(p);
            taken.add(new Box(p[0] - POINT_RADIUS - 1, p[1] - POINT_RADIUS - 1, 2 * POINT_RADIUS + 2, 2 * POINT_RADIUS + 2));
        }
        if (Double.isFinite(budget)) budgetLine(svg, y.at(budget), maxDropPoints, taken);
        points(svg, shown, at, taken);
        return svg.close();
    }

    /** File bytes, log scale, the largest file on the left. */
    static Scale sizeScale(List<StepMetrics> steps) {
        long min = Long.MAX_VALUE, max = 1;
        for (StepMetrics s : steps) {
            min = Math.min(min, Math.max(1, s.fileBytes()));
            max = Math.max(max, s.fileBytes());
        }
        return Scale.logarithmic(min, max, RIGHT, LEFT);
    }

    /** Test accuracy in percent, with room above the highest point for its label. */
    static Scale accuracyScale(List<StepMetrics> steps, double budget) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (StepMetrics s : steps) {
            if (!Double.isFinite(s.accuracy())) continue;
            min = Math.min(min, 100 * s.accuracy());
            max = Math.max(max, 100 * s.accuracy());
        }
        if (Double.isFinite(budget)) {
            min = Math.min(min, budget);
            max = Math.max(max, budget);
        }
        if (min > max) return Scale.linear(0, 100, BOTTOM, TOP, 5);
        double room = Math.max(0.2, 0.12 * (max - min));
        return Scale.linear(Math.max(0, min - room), Math.min(100, max + room), BOTTOM, TOP, 5);
    }

    private static void grid(Svg svg, Scale x, Scale y) {
        for (double v : y.ticks()) {
            svg.line(LEFT, y.at(v), RIGHT, y.at(v), "grid");
            svg.text(LEFT - 8, y.at(v) + 4, "end", "tick", Figures.format("%." + decimals(y) + "f", v));
        }
        for (double v : x.ticks()) {
            svg.line(x.at(v), TOP, x.at(v), BOTTOM, "grid");
            svg.text(x.at(v), BOTTOM + 18, "middle", "tick", Figures.bytes(v));
        }
        svg.line(LEFT, BOTTOM, RIGHT, BOTTOM, "axis");
        svg.line(LEFT, TOP, LEFT, BOTTOM, "axis");
        svg.text((LEFT + RIGHT) / 2, HEIGHT - 14, "middle", "axis-title", "File size (log scale; smaller to the right →)");
        svg.verticalText(18, (TOP + BOTTOM) / 2, "axis-title", "Test accuracy (%)");
    }

    /** The decimals the accuracy ticks need: none for a step of 1 or more, two for 0.25. */
    private static int decimals(Scale y) {
        double step = y.ticks().get(1) - y.ticks().get(0);
        int d = 0;
        while (d < 3 && Math.abs(step * Math.pow(10, d) - Math.rint(step * Math.pow(10, d))) > 1e-6) d++;
        return d;
    }

    /** The dashed budget line, its label where no point is: right end below the line, else above, else at the left end. */
    private static void budgetLine(Svg svg, double at, double maxDropPoints, List<Box> taken) {
        svg.line(LEFT, at, RIGHT, at, "budget");
        String label = "budget (" + Figures.signed(-maxDropPoints, 2) + " pt)";
        double w = Svg.textWidth(label);
        Box[] candidates = {
                new Box(RIGHT - 6 - w, at + 3, w, LABEL_HEIGHT),
                new Box(RIGHT - 6 - w, at - 3 - LABEL_HEIGHT, w, LABEL_HEIGHT),
                new Box(LEFT + 6, at + 3, w, LABEL_HEIGHT),
                new Box(LEFT + 6, at - 3 - LABEL_HEIGHT, w, LABEL_HEIGHT)};
        Box chosen = free(candidates, taken);
        taken.add(chosen);
        svg.text(chosen.x + w, chosen.y + LABEL_HEIGHT - 3, "end", "budget-label", label);
    }

    /** The first candidate inside the plot that covers nothing taken, or the first candidate moved inside the plot. */
    private static Box free(Box[] candidates, List<Box> taken) {
        for (Box c : candidates) {
            if (c.inside(LEFT + 2, TOP, RIGHT, BOTTOM) && taken.stream().noneMatch(c::overlaps)) return c;
        }
        Box b = candidates[0];
        return new Box(Math.max(LEFT + 2, Math.min(RIGHT - b.w, b.x)), Math.max(TOP, Math.min(BOTTOM - b.h, b.y)), b.w, b.h);
    }

    /** The steps' points joined in order, each labelled with its name. */
    private static void points(Svg svg, List<StepMetrics> shown, List<double[]> at, List<Box> taken) {
        svg.polyline(at, "path");
        for (int i = 0; i < shown.size(); i++) {
            StepMetrics s = shown.get(i);
            double[] p = at.get(i);
            svg.point(p[0], p[1], POINT_RADIUS, i == 0 ? "point first" : "point", s.name(),
                    s.name() + ": " + Figures.percent(s.accuracy()) + ", " + Figures.count(s.fileBytes()) + " bytes");
        }
        for (int i = 0; i < shown.size(); i++) label(svg, Figures.shorten(shown.get(i).name(), 32), at.get(i)[0], at.get(i)[1], taken);
    }

    /** Puts a step's name beside its point where it covers no other label, point or the plot's edge: above, below, right or left. */
    private static void label(Svg svg, String name, double px, double py, List<Box> taken) {
        double w = Svg.textWidth(name);
        Box[] candidates = {
                new Box(px - w / 2, py - 9 - LABEL_HEIGHT, w, LABEL_HEIGHT),
                new Box(px - w / 2, py + 9, w, LABEL_HEIGHT),
                new Box(px + 9, py - LABEL_HEIGHT / 2, w, LABEL_HEIGHT),
                new Box(px - 9 - w, py - LABEL_HEIGHT / 2, w, LABEL_HEIGHT),
                new Box(px + 7, py - 7 - LABEL_HEIGHT, w, LABEL_HEIGHT),
                new Box(px - 7 - w, py + 7, w, LABEL_HEIGHT)};
        Box chosen = free(candidates, taken);
        taken.add(chosen);
        svg.text(chosen.x + chosen.w / 2, chosen.y + LABEL_HEIGHT - 3, "middle", "point-label", name);
    }

}
