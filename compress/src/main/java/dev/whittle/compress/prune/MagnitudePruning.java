package dev.whittle.compress.prune;

import dev.whittle.engine.nn.Sequential;
import java.util.Arrays;
import java.util.List;

/**
 * Unstructured magnitude pruning (Han et al. 2015): the weights of smallest |w| are set to 0 and
 * masked, so that fine-tuning keeps them at 0. Layer-wise, every prunable layer loses the same
 * fraction; global, one threshold across all layers decides, so layers with many small weights
 * (typically the large first Linear) give up more. Ties are broken by position (layer, then
 * index), so the same weights always give the same mask.
 */
public final class MagnitudePruning {

    /** One threshold per layer or one for the whole model. */
    public enum Scope { LAYER, GLOBAL }

    private MagnitudePruning() {}

    /**
     * Masks the smallest-magnitude weights of {@code model} so that a fraction {@code sparsity} of
     * every layer (LAYER) or of all prunable weights together (GLOBAL) is 0. Weights already masked
     * count as pruned and stay so.
     */
    public static void prune(Sequential model, double sparsity, Scope scope) {
        if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        List<PrunableWeights> weights = PrunableWeights.of(model);
        if (scope == Scope.LAYER) {
            for (PrunableWeights w : weights) pruneSmallest(List.of(w), sparsity);
        } else {
            pruneSmallest(weights, sparsity);
        }
    }

    /**
     * Prunes the smallest {@code round(sparsity * n)} of the n weights of {@code group}, by |w|, then
     * position; weights already masked stay masked even when there are more of them (a model
     * pruned further than asked keeps its mask rather than letting fine-tuning regrow weights).
     */
    static void pruneSmallest(List<PrunableWeights> group, double sparsity) {
        long n = 0;
        for (PrunableWeights w : group) n += w.weight().value().size();
        int prune = (int) Math.round(sparsity * n);
        // sort keys: |w| as its (non-negative) float bits in the high half, the position in the low
        long[] keys = new long[(int) n];
        boolean[] pruned = new boolean[(int) n];
        int k = 0;
        for (PrunableWeights w : group) {
            boolean[] old = w.weight().mask();
            float[] v = w.weight().value().data();
            for (int i = 0; i < v.length; i++, k++) {
                boolean masked = old != null && !old[i];
                pruned[k] = masked;
                float a = masked ? 0f : Math.abs(v[i]);
                keys[k] = ((long) Float.floatToIntBits(a) << 32) | k;
            }
        }
        Arrays.sort(keys);
        for (int i = 0; i < prune; i++) pruned[(int) keys[i]] = true;
        int at = 0;
        for (PrunableWeights w : group) {
            int size = w.weight().value().size();
            boolean[] keep = new boolean[size];
            for (int i = 0; i < size; i++) keep[i] = !pruned[at + i];
            w.weight().setMask(keep);
            at += size;
        }
    }

    /**
     * N:M semi-structured sparsity (Mishra et al. 2021, 2:4 on NVIDIA Ampere): in every run of
     * {@code m} consecutive weights along a row's inputs, only the {@code n} largest |w| stay
     * (a row's last, shorter run keeps {@code n} as well, or all of it if shorter).
     */
    public static void pruneNofM(Sequential model, int n, int m) {
        if (n < 1 || m <= n) throw new IllegalArgumentException("N:M needs 1 <= N < M, got " + n + ":" + m);
        for (PrunableWeights w : PrunableWeights.of(model)) {
            float[] v = w.weight().value().data();
            boolean[] keep = new boolean[v.length];
            int rows = w.rows(), cols = w.cols();
            Integer[] order = new Integer[m];
            for (int r = 0; r < rows; r++) {
                for (int c0 = 0; c0 < cols; c0 += m) {
                    int len = Math.min(m, cols - c0), base = r * cols + c0;
                    for (int j = 0; j < len; j++) order[j] = j;
                    // largest |w| first; the earlier position wins a tie
                    Arrays.sort(order, 0, len, (a, b) -> {
                        int c = Float.compare(Math.abs(v[base + b]), Math.abs(v[base + a]));
                        return c != 0 ? c : Integer.compare(a, b);
                    });
                    for (int j = 0; j < Math.min(n, len); j++) keep[base + order[j]] = true;
                }
            }
            w.weight().setMask(keep);
        }
    }
}
