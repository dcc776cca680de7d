package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HistogramTest {

    /** Batches whose range keeps widening, both ways, so the grid grows several times. */
    static float[][] widening(long seed) {
        Random r = new Random(seed);
        float[][] batches = new float[12][];
        for (int b = 0; b < batches.length; b++) {
            float spread = (float) Math.pow(1.9, b);
            batches[b] = new float[500];
            for (int i = 0; i < 500; i++) batches[b][i] = (float) (r.nextGaussian() * spread + (b % 3 == 0 ? spread : -0.5 * spread));
        }
        return batches;
    }

    static long[] counts(Histogram h) {
        long[] c = new long[h.bins()];
        for (int i = 0; i < c.length; i++) c[i] = h.count(i);
        return c;
    }

    @Test
    void countsSumToTheValuesSeen() {
        Histogram h = new Histogram(64);
        long n = 0;
        for (float[] b : widening(1)) {
            h.add(b, 0, b.length);
            n += b.length;
            assertEquals(n, h.total());
            assertEquals(n, Arrays.stream(counts(h)).sum());
        }
    }

    @Test
    void growingKeepsEveryValuesCount() {
        Histogram h = new Histogram(64);
        float[][] batches = widening(2);
        for (float[] b : batches) h.add(b, 0, b.length);
        assertTrue(h.binWidth() > 0);
        // a direct count of every value on the final grid: merging old bins must give the same
        long[] direct = new long[h.bins()];
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float[] b : batches) {
            for (float v : b) {
                int i = (int) ((v - h.edge(0)) / h.binWidth());
                assertTrue(i >= 0 && i <= h.bins(), "value " + v + " outside the grid");
                direct[Math.min(i, h.bins() - 1)]++;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        assertTrue(h.edge(0) <= min && h.edge(h.bins()) >= max);
        assertEquals(min, h.min());
        assertEquals(max, h.max());
        // the grid is two to a few times wider than the data, not many times
        assertTrue(h.edge(h.bins()) - h.edge(0) < 4 * (max - min), "grid " + h.edge(0) + ".." + h.edge(h.bins()));
        assertEquals(Arrays.toString(direct), Arrays.toString(counts(h)));
    }

    @Test
    void theSameBatchesGiveTheSameBins() {
        Histogram a = new Histogram(128), b = new Histogram(128);
        for (float[] x : widening(3)) a.add(x, 0, x.length);
        for (float[] x : widening(3)) b.add(x, 0, x.length);
        assertEquals(Arrays.toString(counts(a)), Arrays.toString(counts(b)));
        assertEquals(a.edge(0), b.edge(0));
        assertEquals(a.binWidth(), b.binWidth());
    }

    @Test
    void aConstantStreamIsAPointUntilASecondValueComes() {
        Histogram h = new Histogram(16);
        h.add(new float[] {2f, 2f, 2f}, 0, 3);
        assertTrue(h.isPoint());
        assertEquals(2.0, h.quantile(0.5));
        h.add(new float[] {4f, 2f}, 0, 2);
        assertTrue(!h.isPoint());
        assertEquals(4, h.count(0));
        assertEquals(1, h.count(15));
        assertEquals(2.0, h.quantile(0));
        assertEquals(4.0, h.quantile(1));
    }

    @Test
    void magnitudesAreAnchoredAtZero() {
        Histogram h = Histogram.ofMagnitudes(8);
        h.add(new float[] {-4f, 1f, -3f}, 1, 2);
        assertEquals(0.0, h.edge(0));
        assertEquals(3.0, h.edge(8), 1e-6);
        assertTrue(h.edge(8) > 3.0);          // half-open bins: the top edge lies just above the max
        h.add(new float[] {-4f}, 0, 1);
        assertEquals(0.0, h.edge(0));
        assertEquals(6.0, h.edge(8), 1e-6);
        assertEquals(3, h.total());
        assertEquals(1, h.count(1));          // 1 in [0.75, 1.5)
        assertEquals(1, h.count(3));          // 3 in [2.25, 3 + ε)
        assertEquals(1, h.count(5));          // 4 in [3.75, 4.5)
        assertEquals(3, h.count(1) + h.count(3) + h.count(5));
    }

    @Test
    void quantilesAreWithinABinOfTheSortedValues() {
        Random r = new Random(4);
        float[] x = new float[20_000];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Histogram h = new Histogram(256);
        for (int off = 0; off < x.length; off += 1000) h.add(x, off, 1000);
        float[] sorted = x.clone();
        Arrays.sort(sorted);
        for (double q : new double[] {0.01, 0.25, 0.5, 0.9, 0.999}) {
            double exact = sorted[(int) Math.ceil(q * x.length) - 1];
            assertEquals(exact, h.quantile(q), h.binWidth(), "quantile " + q);
        }
    }

    @Test
    void nonFiniteValuesAreRefusedBeforeAnythingChanges() {
        Histogram h = new Histogram(16);
        h.add(new float[] {1f, 2f}, 0, 2);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> h.add(new float[] {100f, bad}, 0, 2));
        }
        assertEquals(2, h.total());
        assertEquals(2f, h.max());
        assertThrows(IllegalArgumentException.class, () -> new Histogram(7));
    }
}
