package dev.whittle.compress.quantize;

import java.util.Objects;

/**
 * A streaming histogram of a tensor's values over calibration batches, in bounded memory: a fixed
 * number of equal-width bins on a grid that only grows. The raw values are never kept. The
 * percentile, MSE and entropy observers read their ranges from it.
 *
 * <p>The grid is laid on the first batch that has two distinct values, over {@code [min, max]}
 * (or {@code [0, max]} for a histogram of magnitudes). Until then every value seen is the same one
 * and is only counted ({@link #isPoint()}). When a later batch falls outside the grid, the range
 * doubles, towards the side the batch overflows, as often as needed: the new bins are pairs of old
 * ones, so every old bin merges exactly into one new bin and no count moves between values.
 *
 * <pre>
 *   B = 8, old:                          |0|1|2|3|4|5|6|7|
 *   doubled right:                       |0  |1  |2  |3  |4  |5  |6  |7  |    new k       = old 2k + old 2k+1
 *   doubled left:        |0  |1  |2  |3  |4  |5  |6  |7  |                    new B/2 + k = old 2k + old 2k+1
 * </pre>
 *
 * Bins are half-open, {@code [edge(i), edge(i + 1))}. The grid after a stream of batches depends only on the batches and their order, so the same
 * calibration gives the same bins. The counts are {@code long}; NaN and infinite values are refused.
 */
final class Histogram {

    /** Bins of the observers' histograms: TensorRT's 2048 (Migacz, 2017). */
    static final int DEFAULT_BINS = 2048;

    private final long[] counts;
    private final long[] scratch;
    private final boolean magnitudes;
    private double origin;      // the lower edge of bin 0
    private double width;       // 0 until the grid is laid
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long total;

    private Histogram(int bins, boolean magnitudes) {
        if (bins < 2 || bins % 2 != 0) throw new IllegalArgumentException("bins must be even and at least 2, got " + bins);
        this.counts = new long[bins];
        this.scratch = new long[bins];
        this.magnitudes = magnitudes;
    }

    /** A histogram of the values themselves. */
    Histogram(int bins) {
        this(bins, false);
    }

    /** A histogram of {@code |x|}, its grid anchored at 0. */
    static Histogram ofMagnitudes(int bins) {
        return new Histogram(bins, true);
    }

    /** Adds {@code x[off .. off+n)} (their magnitudes, for a histogram of magnitudes). */
    void add(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        if (n == 0) return;
        // first pass: the batch's extent, and the checks, before anything changes
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) throw new IllegalArgumentException(v + " in the activations being calibrated");
            if (magnitudes) v = Math.abs(v);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        float newMin = Math.min(min, lo), newMax = Math.max(max, hi);
        if (width == 0) {
            double from = magnitudes ? 0 : newMin;
            if (newMax > from) {
                origin = from;
                width = ((double) newMax - from) / counts.length;
                // bins are half-open, [edge, next edge): the top edge lies just above the max
                while (from + counts.length * width <= newMax) width = Math.nextUp(width);
                if (total > 0) counts[index(min)] += total;   // until now every value was min
            }
        } else {
            cover(lo, hi);
        }
        min = newMin;
        max = newMax;
        total += n;
        if (width == 0) return;
        // second pass: count
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            counts[index(magnitudes ? Math.abs(v) : v)]++;
        }
    }

    /** Doubles the grid until it holds {@code [lo, hi]} (below its top edge). */
    private void cover(double lo, double hi) {
        while (lo < origin || hi >= top()) {
            boolean right = hi >= top() && (lo >= origin || hi - top() >= origin - lo);
            int half = counts.length / 2;
            java.util.Arrays.fill(scratch, 0L);
            for (int k = 0; k < half; k++) scratch[right ? k : half + k] = counts[2 * k] + counts[2 * k + 1];
            System.arraycopy(scratch, 0, counts, 0, counts.length);
            if (!right) origin -= counts.length * width;
            width *= 2;
        }
    }

    private double top() {
        return origin + counts.length * width;
    }

    /** The bin of {@code v}; a value rounded past either end of the grid stays in the end bin. */
    private int index(float v) {
        int i = (int) ((v - origin) / width);
        return Math.max(0, Math.min(counts.length - 1, i));
    }

    /** Whether every value seen so far is the same ({@link #min()}): no grid is laid yet. */
    boolean isPoint() {
        return width == 0;
    }

    int bins() {
        return counts.length;
    }

    /** The count of bin {@code i} (all 0 while {@link #isPoint()}). */
    long count(int i) {
        return counts[i];
    }

    /** Values seen so far. */
    long total() {
        return total;
    }

    /** The smallest value seen (of the magnitudes, for a histogram of magnitudes). */
    float min() {
        return min;
    }

    /** The largest value seen. */
    float max() {
        return max;
    }

    double binWidth() {
        return width;
    }

    /** The lower edge of bin {@code i}; {@code edge(bins())} is the top of the grid. */
    double edge(int i) {
        return origin + i * width;
    }

    /** Index of the last bin with a count, -1 if none. */
    int lastNonEmpty() {
        for (int i = counts.length - 1; i >= 0; i--) if (counts[i] != 0) return i;
        return -1;
    }

    /**
     * The value below which a fraction {@code q} of the values lie, reading each bin as values
     * spread evenly over it and clamped to {@code [min, max]}: {@code quantile(0)} is the min,
     * {@code quantile(1)} the max.
     */
    double quantile(double q) {
        if (!(q >= 0 && q <= 1)) throw new IllegalArgumentException("quantile " + q + " is not in [0, 1]");
        if (total == 0) throw new IllegalStateException("nothing observed");
        if (isPoint()) return min;
        double target = q * total, below = 0;
        for (int i = 0; i < counts.length; i++) {
            long c = counts[i];
            if (c > 0 && below + c >= target) {
                double v = edge(i) + (target - below) / c * width;
                return Math.max(min, Math.min(max, v));
            }
            below += c;
        }
        return max;
    }
}
