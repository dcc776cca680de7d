package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;

/**
 * Herding (Welling 2009), in the greedy form iCaRL (Rebuffi et al. 2017) uses for exemplars: per
 * class, the k-th pick is the sample that brings the mean of the picks closest to the class mean,
 * so the mean of any prefix of the selection tracks the class mean. Deterministic (ties go to
 * the lower index); no seed needed.
 */
public final class Herding {

    private Herding() {}

    /** Indices grouped by class, each class's in picking order. */
    public static int[] select(Dataset data, ClassIndex classes, Embedding space, Budget budget) {
        IntList chosen = new IntList();
        for (int c = 0; c < classes.classes(); c++) {
            int[] m = classes.members(c);
            int[] picks = herd(space.embed(data, m), m.length, space.dim(), budget.countFor(m.length));
            for (int p : picks) chosen.add(m[p]);
        }
        return chosen.toArray();
    }

    /** The herding order over {@code n} rows of {@code x} (each {@code d} long): the first {@code k} picks. */
    static int[] herd(float[] x, int n, int d, int k) {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        double[] sum = new double[d];
        boolean[] used = new boolean[n];
        int[] picks = new int[k];
        for (int t = 1; t <= k; t++) {
            // minimising |mean - (sum + x)/t|^2 is minimising |t*mean - sum - x|^2
            int best = -1;
            double bestDist = Double.POSITIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                if (used[i]) continue;
                double dist = 0;
                int row = i * d;
                for (int j = 0; j < d; j++) {
                    double r = t * mean[j] - sum[j] - x[row + j];
                    dist += r * r;
                }
                if (dist < bestDist) {
                    bestDist = dist;
                    best = i;
                }
            }
            used[best] = true;
            picks[t - 1] = best;
            for (int j = 0; j < d; j++) sum[j] += x[best * d + j];
        }
        return picks;
    }
}
