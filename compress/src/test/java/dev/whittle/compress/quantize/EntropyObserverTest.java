package dev.whittle.compress.quantize;

import static dev.whittle.compress.quantize.ObserverData.gaussian;
import static dev.whittle.compress.quantize.ObserverData.observe;
import static dev.whittle.compress.quantize.ObserverData.quantizationError;
import static dev.whittle.compress.quantize.ObserverData.top;
import static dev.whittle.compress.quantize.ObserverData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.kernels.QuantParams;
import org.junit.jupiter.api.Test;

class EntropyObserverTest {

    static double absMax(float[] x) {
        double m = 0;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    @Test
    void gaussianDataIsClippedWellInsideTheMaxWithLessError() {
        float[] x = gaussian(100_000, 21);
        double max = absMax(x);
        QuantParams p = observe(new EntropyObserver(), x, 1000).int8(true);
        double threshold = 127 * p.scales()[0];
        assertTrue(threshold > 2 && threshold < 0.9 * max, "threshold " + threshold + ", max |x| " + max);
        double e = quantizationError(x, p), eMinMax = quantizationError(x, observe(new MinMaxObserver(), x, 1000).int8(true));
        assertTrue(e < 0.85 * eMinMax, "error " + e + " against min-max " + eMinMax);
    }

    @Test
    void uniformDataKeepsTheMax() {
        float[] x = uniform(50_000, -2f, 2f, 22);
        double threshold = 127 * observe(new EntropyObserver(), x, 1000).int8(true).scales()[0];
        assertTrue(threshold > 0.97 * absMax(x) && threshold <= absMax(x) * 1.0001, "threshold " + threshold);
    }

    @Test
    void nonNegativeDataGetsZeroToThresholdAndTheZerosOfAReluDoNotPullItDown() {
        float[] x = gaussian(100_000, 23);
        for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, x[i]);
        QuantParams p = observe(new EntropyObserver(), x, 1000).int8(false);
        assertEquals(-128, p.zeroPoints()[0]);
        assertTrue(top(p) > 3 && top(p) <= absMax(x), "threshold " + top(p) + ", max " + absMax(x));
    }

    @Test
    void signedDataFallsBackToSymmetric() {
        float[] x = gaussian(20_000, 24);
        EntropyObserver o = observe(new EntropyObserver(), x, 1000);
        assertEquals(o.int8(true), o.int8(false));
    }

    @Test
    void theDivergenceOfAnUnclippedEvenHistogramIsZeroAndClippingCostsMore() {
        double[] bins = new double[512];
        java.util.Arrays.fill(bins, 10);
        var kl = new EntropyObserver.Divergence(bins);
        assertEquals(0.0, kl.at(512, 128), 1e-12);
        assertTrue(kl.at(256, 128) > 0.1);
    }

    @Test
    void theDivergenceByPrefixSumsIsTheOneBinByBin() {
        java.util.Random r = new java.util.Random(25);
        for (int trial = 0; trial < 20; trial++) {
            double[] bins = new double[300 + r.nextInt(300)];
            for (int k = 0; k < bins.length; k++) bins[k] = r.nextInt(4) == 0 ? 0 : r.nextInt(1000);
            var kl = new EntropyObserver.Divergence(bins);
            for (int levels : new int[] {128, 256}) {
                for (int i = levels; i <= bins.length; i += 1 + r.nextInt(9)) {
                    double want = directDivergence(bins, i, levels);
                    assertEquals(want, kl.at(i, levels), 1e-9 * Math.max(1, want), "i " + i + ", levels " + levels);
                }
            }
        }
    }

    /** The divergence as Migacz writes it: build P and Q bin by bin, normalise, sum. */
    static double directDivergence(double[] bins, int i, int levels) {
        double[] p = java.util.Arrays.copyOf(bins, i);
        double clipped = 0;
        for (int k = i; k < bins.length; k++) clipped += bins[k];
        p[i - 1] += clipped;
        double[] q = new double[i];
        for (int run = 0; run < levels; run++) {
            int from = run * i / levels, to = (run + 1) * i / levels;
            double m = 0;
            int nonZero = 0;
            for (int k = from; k < to; k++) {
                m += bins[k];
                if (p[k] > 0) nonZero++;
            }
            for (int k = from; k < to; k++) if (p[k] > 0) q[k] = m / nonZero;
        }
        double sp = 0, sq = 0;
        for (int k = 0; k < i; k++) {
            sp += p[k];
            sq += q[k];
        }
        double kl = 0;
        for (int k = 0; k < i; k++) {
            if (p[k] == 0) continue;
            double pk = p[k] / sp, qk = q[k] > 0 ? q[k] / sq : 1e-4;
            kl += pk * Math.log(pk / qk);
        }
        return kl;
    }
}
