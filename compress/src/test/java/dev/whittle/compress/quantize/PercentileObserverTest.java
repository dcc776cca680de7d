package dev.whittle.compress.quantize;

import static dev.whittle.compress.quantize.ObserverData.bottom;
import static dev.whittle.compress.quantize.ObserverData.observe;
import static dev.whittle.compress.quantize.ObserverData.top;
import static dev.whittle.compress.quantize.ObserverData.uniform;
import static dev.whittle.compress.quantize.ObserverData.withOutliers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PercentileObserverTest {

    static final int BATCH = 1000;

    /** Uniform on [0, 1) with six values 25 times the bulk, three either side. */
    static final float[] DATA = withOutliers(uniform(100_000, 0f, 1f, 7), 25f, -25f, 25f, -25f, 25f, -25f);

    static double sortedQuantile(float[] sorted, double q) {
        return sorted[(int) Math.ceil(q * sorted.length) - 1];
    }

    @Test
    void theRangeLeavesOutTheOutliersAndLandsWithinABinOfTheExactPercentiles() {
        PercentileObserver o = observe(new PercentileObserver(99.9), DATA, BATCH);
        Histogram h = observe(new HistogramObserver(new Histogram(Histogram.DEFAULT_BINS)), DATA, BATCH).h;
        float[] sorted = DATA.clone();
        Arrays.sort(sorted);
        double lo = sortedQuantile(sorted, 0.001), hi = sortedQuantile(sorted, 0.999);
        assertTrue(hi < 1 && hi > 0.99, "exact 99.9th percentile " + hi);
        // the values the histogram gives, before the range is widened to 0 and the zero point rounded
        assertEquals(lo, h.quantile(0.001), h.binWidth());
        assertEquals(hi, h.quantile(0.999), h.binWidth());
        var p = o.int8(false);
        double step = p.scales()[0];
        assertEquals(hi, top(p), h.binWidth() + step, "top " + top(p));
        assertEquals(0.0, bottom(p), step);    // [~0.001, hi] widened to include 0
        assertTrue(top(p) < 2, "the outliers at 25 are left out: " + top(p));
    }

    @Test
    void symmetricIsThePercentileOfTheMagnitudes() {
        float[] x = withOutliers(uniform(100_000, -1f, 2f, 8), 40f, -40f);
        var p = observe(new PercentileObserver(99.0), x, BATCH).int8(true);
        float[] mag = new float[x.length];
        for (int i = 0; i < x.length; i++) mag[i] = Math.abs(x[i]);
        Arrays.sort(mag);
        Histogram h = observe(new HistogramObserver(Histogram.ofMagnitudes(Histogram.DEFAULT_BINS)), x, BATCH).h;
        assertEquals(0, p.zeroPoints()[0]);
        assertEquals(sortedQuantile(mag, 0.99), 127 * p.scales()[0], h.binWidth() + 1e-6);
    }

    @Test
    void oneHundredIsTheMinMaxRange() {
        float[] x = uniform(5000, -3f, 5f, 9);
        var mm = observe(new MinMaxObserver(), x, 512);
        var p = observe(new PercentileObserver(100), x, 512);
        assertEquals(mm.int8(false), p.int8(false));
        assertEquals(mm.int8(true), p.int8(true));
    }

    @Test
    void percentilesOutsideFiftyToAHundredAreRefused() {
        for (double bad : new double[] {50, 0, -1, 100.01, Double.NaN}) {
            assertThrows(IllegalArgumentException.class, () -> new PercentileObserver(bad), "" + bad);
        }
    }

    /** A histogram fed as an observer is, to compare against the one inside. */
    record HistogramObserver(Histogram h) implements Observer {
        @Override
        public void observe(float[] x, int off, int n) {
            h.add(x, off, n);
        }

        @Override
        public dev.whittle.kernels.QuantParams int8(boolean symmetric) {
            throw new UnsupportedOperationException();
        }
    }
}
