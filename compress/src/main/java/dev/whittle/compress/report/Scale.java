package dev.whittle.compress.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Maps a value in [{@code lo}, {@code hi}] to a position in [{@code from}, {@code to}] of a
 * chart, linearly or on a log scale, with the round values its axis is labelled at. {@code from}
 * may be greater than {@code to}: a scale may run right to left or bottom to top.
 */
record Scale(double lo, double hi, double from, double to, boolean log, List<Double> ticks) {

    /** Steps between linear ticks, per power of ten. */
    private static final double[] NICE = {1, 2, 2.5, 5, 10};

    /** The position of {@code value}. */
    double at(double value) {
        double t = log ? (Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (value - lo) / (hi - lo);
        return from + t * (to - from);
    }

    /**
     * A linear scale whose ends are ticks: about {@code ticks} steps of 1, 2, 2.5 or 5 times a
     * power of ten, covering [{@code min}, {@code max}]. An empty range is widened by one unit.
     */
    static Scale linear(double min, double max, double from, double to, int ticks) {
        if (!(max > min)) {
            min -= 0.5;
            max += 0.5;
        }
        double step = niceStep((max - min) / ticks);
        double lo = Math.floor(min / step + 1e-9) * step, hi = Math.ceil(max / step - 1e-9) * step;
        List<Double> at = new ArrayList<>();
        for (long k = Math.round(lo / step); k <= Math.round(hi / step); k++) at.add(k * step);
        return new Scale(lo, hi, from, to, false, List.copyOf(at));
    }

    /**
     * A log scale covering [{@code min}, {@code max}] (both at least 1) with a little room either
     * side and at least half a decade in all, ticked at 1, 2 and 5 times powers of ten, or at the
     * powers alone when that would crowd the axis, or at more multiples when a short range would
     * otherwise get fewer than three ticks.
     */
    static Scale logarithmic(double min, double max, double from, double to) {
        double a = Math.log10(Math.max(1, min)), b = Math.log10(Math.max(1, Math.max(min, max)));
        double pad = b - a < 0.5 ? (0.5 - (b - a)) / 2 : 0.08 * (b - a);
        double lo = Math.pow(10, a - pad), hi = Math.pow(10, b + pad);
        List<Double> ticks = logTicks(lo, hi, new double[] {1, 2, 5});
        if (ticks.size() < 3) {
            ticks = logTicks(lo, hi, new double[] {1, 1.5, 2, 3, 4, 5, 6, 7, 8});
        } else if (ticks.size() > 7) {
            ticks = logTicks(lo, hi, new double[] {1});
            if (ticks.size() > 8) ticks = everyOther(ticks);
        }
        return new Scale(lo, hi, from, to, true, List.copyOf(ticks));
    }

    /** The values {@code m} times a power of ten, for each {@code m} of {@code multiples}, in [{@code lo}, {@code hi}] and at least 1. */
    private static List<Double> logTicks(double lo, double hi, double[] multiples) {
        List<Double> ticks = new ArrayList<>();
        for (int k = (int) Math.floor(Math.log10(lo)); k <= (int) Math.ceil(Math.log10(hi)); k++) {
            for (double m : multiples) {
                double v = m * Math.pow(10, k);
                if (v >= lo && v <= hi && v >= 1) ticks.add(v);
            }
        }
        return ticks;
    }

    /** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least {@code rough}. */
    static double niceStep(double rough) {
        double power = Math.pow(10, Math.floor(Math.log10(rough)));
        for (double m : NICE) if (m * power >= rough * (1 - 1e-9)) return m * power;
        return 10 * power;
    }

    private static List<Double> everyOther(List<Double> values) {
        List<Double> kept = new ArrayList<>();
        for (int i = 0; i < values.size(); i += 2) kept.add(values.get(i));
        return kept;
    }
}
