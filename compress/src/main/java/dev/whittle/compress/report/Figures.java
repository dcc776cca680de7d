package dev.whittle.compress.report;

import java.util.Locale;

/**
 * How a report writes each figure, so the Markdown table and the HTML page say the same thing:
 * fixed decimals, thousands separators, {@link Locale#ROOT} throughout (a report must not change
 * with the machine's language), and an en dash for anything not measured.
 */
final class Figures {

    /** Written where a figure was not measured (NaN) or cannot be computed. */
    static final String MISSING = "–";

    private Figures() {}

    /** A fraction as a percentage with two decimals: 0.8857 → "88.57%". */
    static String percent(double fraction) {
        return Double.isFinite(fraction) ? format("%.2f%%", 100 * fraction) : MISSING;
    }

    /** The change from {@code from} to {@code to} (fractions) in percentage points: "+0.53 pt". */
    static String points(double from, double to) {
        if (!Double.isFinite(from) || !Double.isFinite(to)) return MISSING;
        return signed(100 * (to - from), 2) + " pt";
    }

    /** A count with thousands separators: 1067288 → "1,067,288". */
    static String count(long n) {
        return format("%,d", n);
    }

    /**
     * How much smaller {@code bytes} is than {@code baseline}: "41.3x smaller", or "1.2x larger"
     * when it grew; "1.0x" when the two round to the same.
     */
    static String sizeRatio(long baseline, long bytes) {
        if (baseline <= 0 || bytes <= 0) return MISSING;
        double ratio = (double) baseline / bytes;
        if (ratio >= 1.05) return format("%.1fx smaller", ratio);
        if (ratio <= 1 / 1.05) return format("%.1fx larger", 1 / ratio);
        return "1.0x";
    }

    /** A latency in microseconds: one decimal below 1,000, whole and grouped above. */
    static String micros(double us) {
        if (!Double.isFinite(us)) return MISSING;
        return us < 1000 ? format("%.1f", us) : format("%,.0f", us);
    }

    /** Samples per second, whole and grouped. */
    static String perSecond(double rate) {
        return Double.isFinite(rate) ? format("%,.0f", rate) : MISSING;
    }

    /** How many times faster {@code us} is than {@code baselineUs} (both batch-1 p50): "2.50x". */
    static String speedup(double baselineUs, double us) {
        if (!Double.isFinite(baselineUs) || !Double.isFinite(us) || us <= 0) return MISSING;
        return format("%.2fx", baselineUs / us);
    }

    /** A sparsity (fraction of zero weights) as a percentage with one decimal. */
    static String sparsity(double fraction) {
        return Double.isFinite(fraction) ? format("%.1f%%", 100 * fraction) : MISSING;
    }

    /** Wall time of a step: "0.4 s", "12 s", "3 min 05 s". */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return MISSING;
        if (seconds < 10) return format("%.1f s", seconds);
        if (seconds < 60) return format("%.0f s", seconds);
        long s = Math.round(seconds);
        return format("%d min %02d s", s / 60, s % 60);
    }

    /** A weight shape: [300, 784] → "300×784". */
    static String shape(int[] shape) {
        if (shape == null || shape.length == 0) return MISSING;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < shape.length; i++) out.append(i == 0 ? "" : "×").append(shape[i]);
        return out.toString();
    }

    /** Bits per stored weight value: "fp32" for 32, otherwise "int8", "int4". */
    static String bits(int bits) {
        return bits == 32 ? "fp32" : "int" + bits;
    }

    /** A byte count in decimal units for axis ticks and captions: "10 kB", "1.5 MB". */
    static String bytes(double bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
        int u = 0;
        double v = bytes;
        while (Math.abs(v) >= 999.5 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return format(v >= 9.95 || v == Math.rint(v) ? "%.0f %s" : "%.1f %s", v, units[u]);
    }

    /** An axis tick: "0", "2.5", "1,000". */
    static String tick(double v) {
        if (v == Math.rint(v)) return format("%,.0f", v);
        return format("%.3f", v).replaceAll("0+$", "");
    }

    /** {@code text} cut to {@code max} characters, the last an ellipsis, so one long name cannot widen a chart without bound. */
    static String shorten(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }

    /** {@code value} with {@code decimals} decimals and an explicit sign; a value that rounds to zero is "+0.00". */
    static String signed(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        double rounded = Math.round(value * scale) / scale;
        if (rounded == 0) rounded = 0; // no "-0.00"
        return format("%+." + decimals + "f", rounded);
    }

    static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
