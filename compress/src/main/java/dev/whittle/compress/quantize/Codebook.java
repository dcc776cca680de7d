package dev.whittle.compress.quantize;

import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.util.Arrays;

/**
 * One layer's shared weights: each weight is one of a few centroids ({@code w[i] = c[cluster[i]]})
 * or, with no cluster ({@code -1}), stays 0. The centroids are a {@link Parameter} whose gradient
 * is the sum of its members' gradients ({@code dL/dc_k = sum over i in k of dL/dw_i}), so any
 * optimizer can train them.
 *
 * <p>{@link #snap} puts the centroids on the weight's INT8 grid as post-training quantization
 * would round it per tensor: {@code s = max|c| / 127} (the same scale function), {@code q_k =
 * rint(c_k / s)}, {@code c_k = s * q_k}. Since {@code s * 127} is then the layer's largest weight,
 * the quantizer computes the same {@code s} again and rounds each weight back to exactly its
 * {@code q_k}; {@code s} is chosen as a fixed point of that round trip, so nothing depends on how
 * float division happens to round.
 */
final class Codebook {

    private static final QuantRange RANGE = QuantRange.INT8_NARROW;

    private final int layer;
    private final Parameter weight;
    private final int[] cluster;
    private Parameter centroids;
    /** Per centroid: the gradient sum in double, so a big cluster's sum does not lose its small terms. */
    private double[] sums;

    private Codebook(int layer, Parameter weight, int[] cluster, float[] centroids) {
        this.layer = layer;
        this.weight = weight;
        this.cluster = cluster;
        setCentroids(centroids);
    }

    /**
     * Clusters the weight's nonzero, unmasked entries into at most {@code k} centroids (k-means
     * from a linear start); null if it has none.
     */
    static Codebook cluster(int layer, Parameter weight, int k) {
        float[] w = weight.value().data();
        boolean[] keep = weight.mask();
        int n = 0;
        for (int i = 0; i < w.length; i++) if (kept(w, keep, i)) n++;
        if (n == 0) return null;
        float[] values = new float[n];
        for (int i = 0, j = 0; i < w.length; i++) if (kept(w, keep, i)) values[j++] = w[i];
        float[] c = KMeans1d.cluster(values, k).centroids();
        int[] cluster = new int[w.length];
        for (int i = 0; i < w.length; i++) cluster[i] = kept(w, keep, i) ? KMeans1d.nearest(c, w[i]) : -1;
        Codebook book = new Codebook(layer, weight, cluster, c);
        book.merge(c);
        return book;
    }

    private static boolean kept(float[] w, boolean[] keep, int i) {
        return (keep == null || keep[i]) && w[i] != 0f;
    }

    /** The layer's index in its model. */
    int layer() {
        return layer;
    }

    /** The centroids, as a parameter to train. */
    Parameter centroids() {
        return centroids;
    }

    /** The centroid values in ascending order. */
    float[] values() {
        return centroids.value().data().clone();
    }

    /** The cluster of weight entry {@code i}, -1 for a weight kept at 0. */
    int clusterOf(int i) {
        return cluster[i];
    }

    /**
     * Moves the centroids onto the INT8 grid, merges those that land on the same value and drops
     * those that land on 0: their weights become 0 and are masked (pruned).
     */
    void snap() {
        float[] c = centroids.value().data();
        merge(snapped(c));
    }

    /** The centroids rounded to the INT8 grid as {@link #snap} rounds them, without changing them. */
    static float[] snapped(float[] c) {
        float s = scale(c);
        float[] out = new float[c.length];
        for (int k = 0; k < c.length; k++) out[k] = s * Quantization.quantize(c[k], s, 0, RANGE);
        return out;
    }

    /**
     * {@code max|c| / 127} by the quantizer's own function, then repeated on {@code s * 127} (the
     * largest weight the snapped layer holds) until it stops moving: the quantizer, starting from
     * that largest weight, then finds exactly {@code s}.
     */
    static float scale(float[] c) {
        float max = 0f;
        for (float v : c) max = Math.max(max, Math.abs(v));
        float s = Quantization.symmetricScale(max, RANGE);
        for (int i = 0; i < 8; i++) {
            float again = Quantization.symmetricScale(s * RANGE.max(), RANGE);
            if (again == s) return s;
            s = again;
        }
        throw new IllegalStateException("no INT8 scale round-trips near " + max + " / " + RANGE.max());
    }

    /** Writes {@code w[i] = values[cluster[i]]} (0 without a cluster) into the layer's weight. */
    void write(float[] values) {
        float[] w = weight.value().data();
        for (int i = 0; i < w.length; i++) w[i] = cluster[i] < 0 ? 0f : values[cluster[i]];
        weight.touch();
    }

    /** Writes the centroids themselves into the weight. */
    void write() {
        write(centroids.value().data());
    }

    /** Sets the centroids' gradient to the sum of their members' gradients (in entry order, so whatever the threads). */
    void gatherGradient() {
        Arrays.fill(sums, 0.0);
        float[] g = weight.grad().data();
        for (int i = 0; i < g.length; i++) if (cluster[i] >= 0) sums[cluster[i]] += g[i];
        float[] cg = centroids.grad().data();
        for (int k = 0; k < cg.length; k++) cg[k] = (float) sums[k];
    }

    /**
     * Makes {@code values} the centroids, one per distinct value in ascending order (fine-tuning
     * may have moved one past another), dropping centroids without members and those at 0 (their
     * weights are pruned), and renumbers the clusters.
     */
    private void merge(float[] values) {
        int k = values.length;
        boolean[] used = new boolean[k];
        for (int c : cluster) if (c >= 0) used[c] = true;
        float[] distinct = new float[k];
        int m = 0;
        for (int j = 0; j < k; j++) if (used[j] && values[j] != 0f) distinct[m++] = values[j];
        Arrays.sort(distinct, 0, m);
        int d = 0;
        for (int j = 0; j < m; j++) if (d == 0 || distinct[d - 1] != distinct[j]) distinct[d++] = distinct[j];
        float[] kept = Arrays.copyOf(distinct, d);
        int[] renumber = new int[k];
        for (int j = 0; j < k; j++) renumber[j] = used[j] && values[j] != 0f ? Arrays.binarySearch(kept, values[j]) : -1;
        boolean pruned = false;
        for (int i = 0; i < cluster.length; i++) {
            if (cluster[i] < 0) continue;
            cluster[i] = renumber[cluster[i]];
            pruned |= cluster[i] < 0;
        }
        setCentroids(kept);
        if (pruned || weight.mask() != null) {
            boolean[] keep = new boolean[cluster.length];
            for (int i = 0; i < keep.length; i++) keep[i] = cluster[i] >= 0;
            weight.setMask(keep);
        }
    }

    private void setCentroids(float[] c) {
        centroids = new Parameter("centroids", new Tensor(c, new int[] {c.length}));
        sums = new double[c.length];
    }
}
