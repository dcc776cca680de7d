package dev.whittle.compress.coreset;

import dev.whittle.engine.Rng;

/** The baseline every other method must beat: a uniformly random draw of each class's share. */
public final class RandomSelection {

    private RandomSelection() {}

    /** Indices grouped by class (class 0 first), each class's in drawing order; same seed, same draw. */
    public static int[] select(ClassIndex classes, Budget budget, long seed) {
        Rng rng = new Rng(seed ^ 0x5DEECE66DL);
        IntList chosen = new IntList();
        for (int c = 0; c < classes.classes(); c++) {
            int[] m = classes.members(c);
            rng.shuffle(m);
            chosen.addAll(m, budget.countFor(m.length));
        }
        return chosen.toArray();
    }
}
