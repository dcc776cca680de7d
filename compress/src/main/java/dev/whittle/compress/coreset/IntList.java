package dev.whittle.compress.coreset;

import java.util.Arrays;

/** A growable list of ints without boxing. */
final class IntList {

    private int[] a = new int[16];
    private int n;

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, 2 * n);
        a[n++] = v;
    }

    void addAll(int[] v, int count) {
        for (int i = 0; i < count; i++) add(v[i]);
    }

    int size() {
        return n;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
