package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Rng;
import org.junit.jupiter.api.Test;

/** 1-D k-means: the linear start, known clusterings, and the fixed point on random data. */
class KMeans1dTest {

    @Test
    void theLinearStartSpansMinToMaxEvenly() {
        assertArrayEquals(new float[] {-1f, 0f, 1f, 2f, 3f}, KMeans1d.linearInit(new float[] {3f, 0.5f, -1f, 2f}, 5));
    }

    @Test
    void twoWellSeparatedGroupsGiveTheirMeans() {
        var c = KMeans1d.cluster(new float[] {10f, 1f, 12f, 2f, 3f, 11f}, 2);
        assertArrayEquals(new float[] {2f, 11f}, c.centroids());
    }

    @Test
    void lloydMovesTheCentroidsUntilTheAssignmentsSettle() {
        // start 0, 15, 30, cut at 7.5 and 22.5: {0..7} {8} {30}, means 3.5, 8, 30;
        // cut at 5.75: {0..5} {6,7,8}, means 2.5, 7; cut at 4.75: {0..4} {5..8}, means 2, 6.5;
        // cut at 4.25: the same clusters, so four steps
        var c = KMeans1d.cluster(new float[] {0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 30f}, 3);
        assertArrayEquals(new float[] {2f, 6.5f, 30f}, c.centroids());
        assertEquals(4, c.iterations());
    }

    @Test
    void aCentroidWithoutValuesKeepsItsPlace() {
        var c = KMeans1d.cluster(new float[] {1f, 1f, 1f, 4f}, 4);
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, c.centroids());
        assertEquals(0, KMeans1d.nearest(c.centroids(), 1.5f)); // on the midpoint: the lower centroid
        assertEquals(1, KMeans1d.nearest(c.centroids(), 1.51f));
        assertEquals(3, KMeans1d.nearest(c.centroids(), 100f));
    }

    @Test
    void onRandomValuesEachCentroidIsTheMeanOfTheValuesNearestToIt() {
        Rng rng = new Rng(3);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + rng.nextInt(500), k = 2 + rng.nextInt(30);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = rng.normal() * (rng.nextInt(10) == 0 ? 4 : 1);
            float[] c = KMeans1d.cluster(v, k).centroids();
            double[] sum = new double[k];
            int[] count = new int[k];
            for (float x : v) {
                int j = KMeans1d.nearest(c, x);
                for (int m = 0; m < k; m++) assertTrue(Math.abs(x - c[j]) <= Math.abs(x - c[m]) + 1e-6, "value " + x);
                sum[j] += x;
                count[j]++;
            }
            for (int j = 0; j < k; j++) {
                if (j > 0) assertTrue(c[j - 1] <= c[j], "sorted");
                if (count[j] > 0) assertEquals(sum[j] / count[j], c[j], 1e-5 * (1 + Math.abs(c[j])));
            }
        }
    }
}
