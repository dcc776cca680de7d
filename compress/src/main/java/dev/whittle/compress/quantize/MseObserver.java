package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * Chooses the clipping range whose int8 quantization has the least expected squared error over
 * the values seen: rounding error inside the range against clipping error outside it, the
 * trade-off of Banner et al., 2019 ("Post-training 4-bit quantization", ACIQ) and of PyTorch's
 * {@code HistogramObserver}, here searched numerically on a streaming {@link Histogram}.
 *
 * <p><b>Error model.</b> Each bin's count is read as values spread evenly over the bin (clipped to
 * the min and max seen). For a candidate range the parameters are the ones the range would really
 * get ({@link Quantization#affine} or the symmetric scale, zero point rounded, 0 included); the
 * integer levels are then the multiples of the scale from {@code (-128 - z)s} to
 * {@code (127 - z)s}, and the squared error of every bin is integrated in closed form: distance to
 * the nearest level inside, distance to the end level outside. A bin of exact zeros under a
 * coarse scale therefore costs almost nothing, where a flat {@code s²/12} per value would not.
 *
 * <p><b>Search.</b> Symmetric: {@code a = k/200 · max|x|} for k = 1..200, then 40 finer steps
 * either side of the best. Asymmetric: the range runs from bin edge {@code i} to bin edge
 * {@code j} (clamped to the min and max seen); every {@code (i, j)} on a grid of 64 bins, then
 * steps of 8 and then of 1 bin within one coarser step of the best: about 1,100 candidates, a
 * few milliseconds. Ties keep the wider range.
 */
public final class MseObserver implements Observer {

    private static final int SYMMETRIC_STEPS = 200;
    private static final int SYMMETRIC_REFINE = 40;
    private static final int ASYMMETRIC_GRID = 32;   // coarse candidates per end: bins / 32 apart
    private static final int REFINE_FACTOR = 8;

    private final Histogram values;

    public MseObserver() {
        this(Histogram.DEFAULT_BINS);
    }

    MseObserver(int bins) {
        values = new Histogram(bins);
    }

    /** NaN and infinite values are a model error and are refused. */
    @Override
    public void observe(float[] x, int off, int n) {
        values.add(x, off, n);
    }

    @Override
    public QuantParams int8(boolean symmetric) {
        if (values.total() == 0) throw new IllegalStateException("nothing observed");
        if (values.isPoint()) return symmetric ? symmetricParams(Math.abs(values.min())) : asymmetricParams(values.min(), values.min());
        Bins bins = new Bins(values);
        return symmetric ? searchSymmetric(bins) : searchAsymmetric(bins);
    }

    private static QuantParams searchSymmetric(Bins bins) {
        double amax = Math.max(Math.abs((double) bins.min), Math.abs((double) bins.max));
        double bestA = amax, best = bins.error(symmetricParams((float) amax));
        for (int k = SYMMETRIC_STEPS - 1; k >= 1; k--) {
            double a = amax * k / SYMMETRIC_STEPS, e = bins.error(symmetricParams((float) a));
            if (e < best) { best = e; bestA = a; }
        }
        double step = amax / SYMMETRIC_STEPS, centre = bestA;
        for (int k = SYMMETRIC_REFINE; k >= -SYMMETRIC_REFINE; k--) {
            double a = centre + step * k / SYMMETRIC_REFINE;
            if (a <= 0 || a > amax) continue;
            double e = bins.error(symmetricParams((float) a));
            if (e < best) { best = e; bestA = a; }
        }
        return symmetricParams((float) bestA);
    }

    private static QuantParams searchAsymmetric(Bins bins) {
        int nb = bins.histogram.bins();
        int step = Math.max(1, nb / ASYMMETRIC_GRID);
        int bestI = 0, bestJ = nb;
        double best = bins.error(asymmetricParams(bins.lo(0), bins.hi(nb)));
        int fromI = 0, toI = nb - 1, fromJ = 1, toJ = nb;
        while (true) {
            for (int i = fromI; i <= toI; i += step) {
                for (int j = toJ; j >= Math.max(fromJ, i + 1); j -= step) {
                    double e = bins.error(asymmetricParams(bins.lo(i), bins.hi(j)));
                    if (e < best) { best = e; bestI = i; bestJ = j; }
                }
            }
            if (step == 1) break;
            fromI = Math.max(0, bestI - step);
            toI = Math.min(nb - 1, bestI + step);
            fromJ = Math.max(1, bestJ - step);
            toJ = Math.min(nb, bestJ + step);
            step = Math.max(1, step / REFINE_FACTOR);
        }
        return asymmetricParams(bins.lo(bestI), bins.hi(bestJ));
    }

    private static QuantParams symmetricParams(float a) {
        return QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0);
    }

    private static QuantParams asymmetricParams(float lo, float hi) {
        return Quantization.affine(QuantRange.INT8, lo, hi);
    }

    /** The histogram's non-empty bins as intervals clipped to [min, max], for the error sums. */
    private static final class Bins {
        final Histogram histogram;
        final float min, max;
        private final double[] from, to, count;
        private final int size;

        Bins(Histogram h) {
            histogram = h;
            min = h.min();
            max = h.max();
            int n = 0;
            for (int i = 0; i < h.bins(); i++) if (h.count(i) != 0) n++;
            from = new double[n];
            to = new double[n];
            count = new double[n];
            int k = 0;
            for (int i = 0; i < h.bins(); i++) {
                if (h.count(i) == 0) continue;
                from[k] = Math.max(h.edge(i), min);
                to[k] = Math.min(h.edge(i + 1), max);
                count[k++] = h.count(i);
            }
            size = n;
        }

        /** Lower end of a range starting at bin edge {@code i}: the edge, within [min, max]. */
        float lo(int i) {
            return i == 0 ? min : clamp(histogram.edge(i));
        }

        /** Upper end of a range ending at bin edge {@code j}; {@code lo(i) <= hi(j)} for i < j. */
        float hi(int j) {
            return j == histogram.bins() ? max : clamp(histogram.edge(j));
        }

        private float clamp(double v) {
            return (float) Math.max(min, Math.min(max, v));
        }

        /** Expected squared error per value of quantizing with {@code p} (per tensor). */
        double error(QuantParams p) {
            double s = p.scales()[0];
            int z = p.zeroPoints()[0];
            double low = (QuantRange.INT8.min() - (double) z) * s, high = (QuantRange.INT8.max() - (double) z) * s;
            double sum = 0, n = 0;
            for (int k = 0; k < size; k++) {
                double a = from[k], b = to[k];
                double e = b > a ? integral(a, b, s, low, high) / (b - a) : pointError(a, s, low, high);
                sum += count[k] * e;
                n += count[k];
            }
            return sum / n;
        }

        /** {@code ∫_a^b err(x)² dx} for levels {@code s·Z ∩ [low, high]}. */
        private static double integral(double a, double b, double s, double low, double high) {
            double sum = 0;
            if (a < low) {
                double u = Math.min(b, low);
                sum += (cube(low - a) - cube(low - u)) / 3;
            }
            double u = Math.max(a, low), v = Math.min(b, high);
            if (v > u) sum += s * s * s * (rounding(v / s) - rounding(u / s));
            if (b > high) {
                double w = Math.max(a, high);
                sum += (cube(b - high) - cube(w - high)) / 3;
            }
            return sum;
        }

        private static double pointError(double x, double s, double low, double high) {
            if (x < low) return (low - x) * (low - x);
            if (x > high) return (x - high) * (x - high);
            double d = x / s - Math.rint(x / s);
            return d * d * s * s;
        }

        /**
         * {@code ∫_0^t dist(τ, Z)² dτ}: 1/12 for each whole unit, and within the last one
         * {@code r³/3} up to the midpoint, the mirror image after it.
         */
        private static double rounding(double t) {
            double k = Math.floor(t), r = t - k;
            return k / 12 + (r <= 0.5 ? r * r * r / 3 : 1.0 / 12 - cube(1 - r) / 3);
        }

        private static double cube(double v) {
            return v * v * v;
        }
    }
}
