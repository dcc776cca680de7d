package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * TensorRT's entropy calibration (Migacz, 2017, "8-bit Inference with TensorRT"): the clipping
 * threshold whose int8 version of the distribution of {@code |x|} loses the least information,
 * measured by the Kullback-Leibler divergence.
 *
 * <p>The values' magnitudes go into a streaming 2048-bin {@link Histogram} anchored at 0. For each
 * candidate threshold of {@code i} bins, {@code levels <= i <=} the last non-empty bin:
 * <ul>
 *   <li>P is the first {@code i} bins, with the mass beyond them (the values clipping would move)
 *       added to bin {@code i - 1};
 *   <li>Q is those {@code i} bins without the clipped mass, merged into {@code levels} runs of
 *       (nearly) equal length and expanded back: each run's mass is spread evenly over the bins
 *       where P is non-zero, and bins where P is zero stay zero;
 *   <li>the divergence is {@code KL(P || Q)} of the normalised histograms; a bin where P has mass
 *       and Q none (a run holding only clipped mass) counts as {@code Q = 1e-4}.
 * </ul>
 * The threshold is {@code (i + 0.5)} bin widths for the {@code i} of least divergence (the first,
 * on ties), and at most the largest {@code |x|}. As in Migacz, Q is built from the bins <em>without</em>
 * the clipped mass, so clipping many values is penalised through the spike it leaves in P.
 *
 * <p>One departure: exact zeros are left out of P and Q. Zero is exact under every threshold, so
 * they say nothing about where to clip; counted in, the spike of zeros after a ReLU (half its
 * outputs, all in bin 0) makes every wider merge of bin 0 look costly and pulls the threshold
 * down to about 1.4σ on half-normal data (some 2,000 times the squared error of min-max).
 *
 * <p>Symmetric: 128 levels (the magnitudes int8 holds on each side) and scale threshold / 127.
 * Asymmetric on values that are all {@code >= 0} (activations after a ReLU): the same search with
 * 256 levels, and the range {@code [0, threshold]}. Asymmetric on signed values: the method
 * measures magnitudes only, so it falls back to the symmetric range around 0 (zero point 0).
 *
 * <p>The grid of a streaming histogram has to grow as larger values come, so the values may fill
 * between half and all of the 2048 bins, where TensorRT (which takes the max in a first pass) fills
 * them all: the search has at worst half its resolution.
 */
public final class EntropyObserver implements Observer {

    static final int SYMMETRIC_LEVELS = 128;
    static final int NON_NEGATIVE_LEVELS = 256;
    private static final double EMPTY_Q = 1e-4;

    private final Histogram magnitudes;
    private float min = Float.POSITIVE_INFINITY;
    private long zeros;

    public EntropyObserver() {
        this(Histogram.DEFAULT_BINS);
    }

    EntropyObserver(int bins) {
        magnitudes = Histogram.ofMagnitudes(bins);
    }

    /** NaN and infinite values are a model error and are refused. */
    @Override
    public void observe(float[] x, int off, int n) {
        magnitudes.add(x, off, n);
        float lo = min;
        long z = 0;
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (v < lo) lo = v;
            if (v == 0f) z++;
        }
        min = lo;
        zeros += z;
    }

    @Override
    public QuantParams int8(boolean symmetric) {
        if (magnitudes.total() == 0) throw new IllegalStateException("nothing observed");
        if (!symmetric && min >= 0f) return Quantization.affine(QuantRange.INT8, 0f, threshold(NON_NEGATIVE_LEVELS));
        return QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(threshold(SYMMETRIC_LEVELS), QuantRange.INT8), 0);
    }

    /** The clipping threshold for {@code levels} quantization levels of {@code |x|}. */
    float threshold(int levels) {
        Histogram h = magnitudes;
        int used = h.lastNonEmpty() + 1;
        if (h.isPoint() || used <= levels) return h.max();
        double[] bins = new double[used];
        for (int k = 0; k < used; k++) bins[k] = h.count(k);
        bins[0] -= zeros;    // exact zeros are exact under every threshold: not part of P or Q
        Divergence kl = new Divergence(bins);
        double best = Double.POSITIVE_INFINITY;
        int bestI = used;
        for (int i = levels; i <= used; i++) {
            double d = kl.at(i, levels);
            if (d < best) {
                best = d;
                bestI = i;
            }
        }
        return (float) Math.min(h.max(), (bestI + 0.5) * h.binWidth());
    }

    /**
     * {@code KL(P || Q)} of a histogram cut at each candidate {@code i}. Within a run Q is flat
     * ({@code q} on each bin where P is non-zero), so a run adds
     * {@code Σ p log(p / q) = Σ p log p - log q · Σ p}: with prefix sums of the counts, of
     * {@code c log c} and of the non-zero bins, a candidate costs one step per level rather than
     * one per bin; only bin {@code i - 1}, which takes the clipped mass, is corrected by hand.
     */
    static final class Divergence {
        private final double[] bins;
        private final double[] mass;       // mass[k] = bins[0] + ... + bins[k - 1]
        private final double[] xLogX;      // likewise of c log c
        private final int[] nonZero;       // likewise of (c != 0)

        Divergence(double[] bins) {
            this.bins = bins;
            int n = bins.length;
            mass = new double[n + 1];
            xLogX = new double[n + 1];
            nonZero = new int[n + 1];
            for (int k = 0; k < n; k++) {
                mass[k + 1] = mass[k] + bins[k];
                xLogX[k + 1] = xLogX[k] + xLogX(bins[k]);
                nonZero[k + 1] = nonZero[k] + (bins[k] != 0 ? 1 : 0);
            }
        }

        /** The divergence for the first {@code i} bins merged into {@code levels} runs. */
        double at(int i, int levels) {
            double total = mass[bins.length], kept = mass[i], clipped = total - kept, kl = 0;
            for (int run = 0; run < levels; run++) {
                int from = (int) ((long) run * i / levels), to = (int) ((long) (run + 1) * i / levels);
                double m = mass[to] - mass[from], sumP = m, sumPLogP = xLogX[to] - xLogX[from];
                int nz = nonZero[to] - nonZero[from];
                if (to == i && clipped > 0) {
                    double last = bins[i - 1];
                    sumP += clipped;
                    sumPLogP += xLogX(last + clipped) - xLogX(last);
                    if (last == 0) nz++;
                }
                if (nz == 0) continue;
                double q = m > 0 ? m / nz / kept : EMPTY_Q;     // Q normalised, on each non-zero bin
                kl += (sumPLogP - sumP * Math.log(total * q)) / total;
            }
            return kl;
        }

        private static double xLogX(double c) {
            return c > 0 ? c * Math.log(c) : 0;
        }
    }
}
