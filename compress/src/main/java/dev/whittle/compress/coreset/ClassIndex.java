package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;

/** The sample indices of each class, in dataset order. */
public final class ClassIndex {

    private final int[][] members;

    private ClassIndex(int[][] members) {
        this.members = members;
    }

    public static ClassIndex of(Dataset data) {
        int[] labels = new int[data.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = data.label(i);
        return of(labels, data.numClasses());
    }

    public static ClassIndex of(int[] labels, int classes) {
        int[] counts = new int[classes];
        for (int y : labels) {
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " outside 0.." + (classes - 1));
            counts[y]++;
        }
        int[][] m = new int[classes][];
        for (int c = 0; c < classes; c++) m[c] = new int[counts[c]];
        int[] fill = new int[classes];
        for (int i = 0; i < labels.length; i++) m[labels[i]][fill[labels[i]]++] = i;
        return new ClassIndex(m);
    }

    public int classes() {
        return members.length;
    }

    /** The indices of class {@code c} (a copy). */
    public int[] members(int c) {
        return members[c].clone();
    }

    public int size(int c) {
        return members[c].length;
    }
}
