package dev.whittle.compress.quantize;

import java.util.Arrays;

/**
 * Lloyd's k-means on a line, with the linear initialisation Deep Compression (Han et al. 2016)
 * found best for weight sharing: k centroids evenly spaced from the smallest value to the
 * largest, so the rare large weights, which matter most, keep a centroid of their own (a random
 * or density-based start puts nearly all centroids in the crowd near 0).
 *
 * <p>On a line the nearest-centroid regions of sorted centroids are intervals cut at the
 * midpoints, so a value belongs to centroid {@code j} when {@code m[j-1] < v <= m[j]} with
 * {@code m[j] = (c[j] + c[j+1]) / 2} (a value on a midpoint goes to the lower centroid). Each
 * Lloyd step therefore needs only the sorted values, their prefix sums and a binary search per
 * midpoint, and the centroids stay sorted: each new one is the mean of values inside its own
 * interval. A centroid left without values keeps its place.
 */
final class KMeans1d {

    /** A cap on Lloyd steps; on trained weights the assignments settle in a few dozen. */
    static final int MAX_ITERATIONS = 300;

    private KMeans1d() {}

    /** Centroids (sorted, possibly some without members) and the Lloyd steps taken. */
    record Clustering(float[] centroids, int iterations) {}

    /** {@code k} centroids evenly spaced over {@code [min, max]} of {@code values}. */
    static float[] linearInit(float[] values, int k) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float[] c = new float[k];
        for (int j = 0; j < k; j++) c[j] = (float) (min + (double) (max - min) * j / (k - 1));
        c[k - 1] = max; // exactly the largest, whatever the rounding of the step
        return c;
    }

    /** Lloyd iterations from the linear start until no value changes cluster ({@link #MAX_ITERATIONS} at most). */
    static Clustering cluster(float[] values, int k) {
        if (values.length == 0) throw new IllegalArgumentException("no values to cluster");
        if (k < 2) throw new IllegalArgumentException("k-means needs at least 2 clusters, got " + k);
        float[] sorted = values.clone();
        Arrays.sort(sorted);
        double[] prefix = new double[sorted.length + 1];
        for (int i = 0; i < sorted.length; i++) prefix[i + 1] = prefix[i] + sorted[i];
        float[] c = linearInit(sorted, k);
        int[] ends = new int[k], previous = new int[k];
        int iterations = 0;
        while (iterations < MAX_ITERATIONS) {
            iterations++;
            clusterEnds(sorted, c, ends);
            for (int j = 0, from = 0; j < k; from = ends[j], j++) {
                if (ends[j] > from) c[j] = (float) ((prefix[ends[j]] - prefix[from]) / (ends[j] - from));
            }
            if (Arrays.equals(ends, previous)) break;
            System.arraycopy(ends, 0, previous, 0, k);
        }
        return new Clustering(c, iterations);
    }

    /** The index of the centroid {@code v} belongs to: the first whose upper midpoint is not below {@code v}. */
    static int nearest(float[] sortedCentroids, float v) {
        int lo = 0, hi = sortedCentroids.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (v <= midpoint(sortedCentroids, mid)) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /** For each centroid, one past the last sorted value it holds. */
    private static void clusterEnds(float[] sorted, float[] c, int[] ends) {
        for (int j = 0; j < c.length - 1; j++) ends[j] = upperBound(sorted, midpoint(c, j));
        ends[c.length - 1] = sorted.length;
    }

    private static float midpoint(float[] c, int j) {
        return (float) (((double) c[j] + c[j + 1]) / 2);
    }

    /** The first index whose value is above {@code x}. */
    private static int upperBound(float[] sorted, float x) {
        int lo = 0, hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= x) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
