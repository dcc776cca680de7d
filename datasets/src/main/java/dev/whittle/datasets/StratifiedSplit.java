package dev.whittle.datasets;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded split of row indices into train and test that keeps each class's share: from every
 * class, round(n * testFraction) rows chosen at random go to test, but at least one row of each
 * class stays in train so that training sees every class. Both index lists are in ascending
 * (file) order.
 */
record StratifiedSplit(int[] train, int[] test) {

    static StratifiedSplit of(int[] labels, int numClasses, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction " + testFraction + " is not strictly between 0 and 1");
        }
        // Rows of each class in file order, gathered with a counting pass instead of lists.
        int[] counts = new int[numClasses];
        for (int label : labels) counts[label]++;
        int[] start = new int[numClasses + 1];
        for (int c = 0; c < numClasses; c++) start[c + 1] = start[c] + counts[c];
        int[] byClass = new int[labels.length];
        int[] next = Arrays.copyOf(start, numClasses);
        for (int i = 0; i < labels.length; i++) byClass[next[labels[i]]++] = i;

        // One generator walked through the classes in order: the same seed gives the same split.
        SplittableRandom random = new SplittableRandom(seed);
        boolean[] inTest = new boolean[labels.length];
        int testCount = 0;
        for (int c = 0; c < numClasses; c++) {
            int n = counts[c];
            int take = (int) Math.min(Math.round(n * testFraction), Math.max(0, n - 1));
            // A partial Fisher-Yates shuffle: the first `take` positions end up a uniform sample.
            for (int k = 0; k < take; k++) {
                int j = k + random.nextInt(n - k);
                int a = start[c] + k;
                int b = start[c] + j;
                int tmp = byClass[a];
                byClass[a] = byClass[b];
                byClass[b] = tmp;
                inTest[byClass[a]] = true;
            }
            testCount += take;
        }
        int[] train = new int[labels.length - testCount];
        int[] test = new int[testCount];
        for (int i = 0, tr = 0, te = 0; i < labels.length; i++) {
            if (inTest[i]) test[te++] = i;
            else train[tr++] = i;
        }
        return new StratifiedSplit(train, test);
    }
}
