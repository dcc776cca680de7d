package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;

/**
 * k-center greedy (Sener and Savarese 2018, after Gonzalez 1985): per class, start from a seeded
 * random sample, then repeatedly add the sample farthest from every chosen one. The covering
 * radius it reaches is within twice the optimum, so the picks spread over the class instead of
 * crowding where the data is dense.
 */
public final class KCenterGreedy {

    private KCenterGreedy() {}

    /** Indices grouped by class, each class's in picking order. */
    public static int[] select(Dataset data, ClassIndex classes, Embedding space, Budget budget, long seed) {
        Rng rng = new Rng(seed ^ 0x6A09E667F3BCC909L);
        IntList chosen = new IntList();
        for (int c = 0; c < classes.classes(); c++) {
            int[] m = classes.members(c);
            int first = m.length == 0 ? 0 : rng.nextInt(m.length);
            int[] picks = centers(space.embed(data, m), m.length, space.dim(), budget.countFor(m.length), first);
            for (int p : picks) chosen.add(m[p]);
        }
        return chosen.toArray();
    }

    /** The first {@code k} greedy centers among {@code n} rows of {@code x}, starting from row {@code first}. */
    static int[] centers(float[] x, int n, int d, int k, int first) {
        int[] picks = new int[k];
        if (k == 0) return picks;
        double[] nearest = new double[n];
        java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        int next = first;
        for (int t = 0; t < k; t++) {
            picks[t] = next;
            int far = -1;
            double farDist = -1;
            for (int i = 0; i < n; i++) {
                double dist = squaredDistance(x, i, next, d);
                if (dist < nearest[i]) nearest[i] = dist;
                if (nearest[i] > farDist) {
                    farDist = nearest[i];
                    far = i;
                }
            }
            next = far; // a chosen row has distance 0, so it is picked again only when every row is chosen
        }
        return picks;
    }

    /** The largest distance from a row to its nearest chosen row: what k-center minimises. */
    public static double coveringRadius(float[] x, int n, int d, int[] chosen) {
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double best = Double.POSITIVE_INFINITY;
            for (int c : chosen) best = Math.min(best, squaredDistance(x, i, c, d));
            worst = Math.max(worst, best);
        }
        return Math.sqrt(worst);
    }

    static double squaredDistance(float[] x, int a, int b, int d) {
        double s = 0;
        int ra = a * d, rb = b * d;
        for (int j = 0; j < d; j++) {
            double r = x[ra + j] - x[rb + j];
            s += r * r;
        }
        return s;
    }
}
