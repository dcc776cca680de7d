package dev.whittle.compress.coreset;

import dev.whittle.engine.Rng;

/**
 * Keeps each class's highest-scoring samples: the rule of forgetting scores (Toneva et al. 2019)
 * and EL2N (Paul et al. 2021), where a high score marks an example that is hard to learn and a
 * low one an example the network gets for free. Ties are broken by a seeded shuffle, so equal
 * scores (many never-forgotten examples share 0) do not favour the start of the dataset.
 */
public final class ScoreSelection {

    private ScoreSelection() {}

    /** Indices grouped by class, each class's from the highest score down. */
    public static int[] highest(double[] scores, ClassIndex classes, Budget budget, long seed) {
        Rng rng = new Rng(seed ^ 0xBB67AE8584CAA73BL);
        IntList chosen = new IntList();
        for (int c = 0; c < classes.classes(); c++) {
            int[] m = classes.members(c);
            rng.shuffle(m);
            Integer[] order = new Integer[m.length];
            for (int i = 0; i < m.length; i++) order[i] = i;
            // stable sort: the shuffle decides among equal scores
            java.util.Arrays.sort(order, (a, b) -> Double.compare(scores[m[b]], scores[m[a]]));
            int k = budget.countFor(m.length);
            for (int i = 0; i < k; i++) chosen.add(m[order[i]]);
        }
        return chosen.toArray();
    }
}
