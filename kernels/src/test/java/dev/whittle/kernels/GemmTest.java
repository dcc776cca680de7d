package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Holds the packed GEMM to its contract bit for bit: every element of C is one FMA chain over p in
 * order, from C's old value or zero, then bias and ReLU. The sizes straddle the register tile
 * (6 x 16 on AVX2), the vector length and the cache blocks (KC = 1024, MC = 96, NC = 2048), and
 * small explicit blocks reach every block boundary on small products.
 */
class GemmTest {

    /** Layouts as strides: {ars, acs, brs, bcs} for A.B, A.B^T and A^T.B. */
    private enum Layout {
        NN, NT, TN;

        int ars(int m, int k) { return this == TN ? 1 : k; }
        int acs(int m, int k) { return this == TN ? m : 1; }
        int brs(int n, int k) { return this == NT ? 1 : n; }
        int bcs(int n, int k) { return this == NT ? k : 1; }
    }

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** The contract, one element at a time. */
    static void reference(Layout l, int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                          float[] c, int cOff, boolean accumulate, float[] bias, boolean relu) {
        int ars = l.ars(m, k), acs = l.acs(m, k), brs = l.brs(n, k), bcs = l.bcs(n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[aOff + i * ars + p * acs], b[bOff + p * brs + j * bcs], s);
                if (bias != null) s += bias[j];
                if (relu) s = Math.max(s, 0f);
                c[cOff + i * n + j] = s;
            }
        }
    }

    private static void check(Layout l, int m, int n, int k, boolean accumulate, float[] bias, boolean relu) {
        int aOff = 3, bOff = 5, cOff = 2;
        float[] a = random(m * 131L + k, aOff + m * k + 1), b = random(n * 17L + k, bOff + k * n + 2);
        float[] c0 = random(m + 7L * n, cOff + m * n + 3);
        float[] want = c0.clone(), got = c0.clone();
        reference(l, m, n, k, a, aOff, b, bOff, want, cOff, accumulate, bias, relu);
        Gemm.gemm(m, n, k, a, aOff, l.ars(m, k), l.acs(m, k), b, bOff, l.brs(n, k), l.bcs(n, k),
                got, cOff, accumulate, bias, relu);
        assertArrayEquals(want, got, l + " m=" + m + " n=" + n + " k=" + k + " acc=" + accumulate
                + " bias=" + (bias != null) + " relu=" + relu);
    }

    @Test
    void awkwardSizesAllLayoutsBitExact() {
        int[] ms = {1, 3, 4, 5, 15, 17, 33, 129};
        int[] ns = {1, 3, 8, 15, 16, 17, 33, 100};
        int[] ks = {1, 3, 17, 257};
        for (Layout l : Layout.values()) {
            for (int m : ms) {
                for (int n : ns) {
                    for (int k : ks) {
                        check(l, m, n, k, false, null, false);
                        check(l, m, n, k, true, null, false);
                    }
                }
            }
        }
    }

    @Test
    void narrowProductsRunTransposedWithTheSameBits() {
        // a 6-column product (LeNet-5 conv1's weight gradient in its earlier, transposed form) and a
        // 10-class head take the C^T path
        org.junit.jupiter.api.Assertions.assertTrue(Gemm.transposedIsCheaper(25, 6));
        org.junit.jupiter.api.Assertions.assertTrue(Gemm.transposedIsCheaper(128, 10));
        org.junit.jupiter.api.Assertions.assertFalse(Gemm.transposedIsCheaper(128, 300));
        for (Layout l : Layout.values()) {
            check(l, 25, 6, 784, false, null, false);
            check(l, 25, 6, 784, true, null, false);
            check(l, 128, 10, 100, false, random(10, 10), true);
            check(l, 257, 1, 19, true, null, false);
        }
    }

    @Test
    void crossesEveryCacheBlock() {
        // k past KC (in two blocks), m past MC, n past NC (kept thin so the test stays quick)
        for (Layout l : Layout.values()) {
            check(l, 130, 37, Gemm.KC + 50, true, null, false);
            check(l, 261, 19, 33, false, null, false);
            check(l, 5, Gemm.NC + 21, 3, true, null, false);
        }
    }

    @Test
    void epilogueAddsBiasThenRelu() {
        for (int m : new int[] {1, 6, 17}) {
            for (int n : new int[] {1, 10, 33}) {
                for (int k : new int[] {0, 1, 25, 300}) {
                    float[] bias = random(n * 3L, n);
                    for (Layout l : Layout.values()) {
                        check(l, m, n, k, false, bias, true);
                        check(l, m, n, k, false, bias, false);
                        check(l, m, n, k, false, null, true);
                        check(l, m, n, k, true, bias, true);
                    }
                }
            }
        }
    }

    @Test
    void sameBitsWhateverTheThreadCount() {
        // shared B blocks (1024^3), split by rows, by columns (m too small to share), transposed
        // (n = 6), and too small to split
        int[][] shapes = {{1024, 1024, 1024}, {333, 517, 259}, {128, 300, 784}, {12, 1999, 301}, {2000, 6, 700},
                {6, 784, 25}, {517, 9, 700}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(1, m * k), b = random(2, k * n);
            for (Layout l : Layout.values()) {
                float[][] out = new float[2][];
                for (int threads = 1; threads <= 2; threads++) {
                    Parallel.setThreads(threads);
                    out[threads - 1] = new float[m * n];
                    Gemm.gemm(m, n, k, a, 0, l.ars(m, k), l.acs(m, k), b, 0, l.brs(n, k), l.bcs(n, k),
                            out[threads - 1], 0, false, null, false);
                }
                assertArrayEquals(out[0], out[1], l + " " + m + "x" + n + "x" + k);
            }
        }
    }

    @Test
    void smallBlocksGiveTheSameBits() {
        // KC, MC and NC far below the defaults, so that small products cross every block
        // boundary (the C tile reloaded between K blocks, several A and B blocks, edge tiles)
        int[][] blocks = {{1, 6, 16}, {7, 12, 32}, {17, 18, 48}, {64, 30, 16}};
        int[][] shapes = {{1, 1, 1}, {3, 17, 33}, {17, 33, 257}, {33, 3, 17}, {40, 70, 100}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(m * 5L + k, m * k), b = random(n * 3L + k, k * n), bias = random(n, n);
            for (Layout l : Layout.values()) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] c0 = random(m + 11L * n, m * n), want = c0.clone();
                    reference(l, m, n, k, a, 0, b, 0, want, 0, accumulate, accumulate ? null : bias, !accumulate);
                    for (int[] blk : blocks) {
                        float[] got = c0.clone();
                        Gemm.gemm(m, n, k, a, 0, l.ars(m, k), l.acs(m, k), b, 0, l.brs(n, k), l.bcs(n, k), got, 0,
                                accumulate, accumulate ? null : bias, !accumulate, blk[0], blk[1], blk[2]);
                        assertArrayEquals(want, got, l + " " + m + "x" + n + "x" + k + " acc=" + accumulate
                                + " blocks " + java.util.Arrays.toString(blk));
                    }
                }
            }
        }
    }

    @Test
    void sharedBBlocksGiveTheSameBitsOnOneOrTwoThreads() {
        // the path large products take on several threads, here with small blocks so that small
        // products have many A blocks, several B blocks and several K blocks
        int[][] blocks = {{7, 12, 32}, {64, 6, 16}, {1024, 96, 2048}};
        int[][] shapes = {{1, 1, 1}, {3, 17, 33}, {17, 33, 257}, {33, 3, 17}, {70, 40, 100}};
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = random(m * 5L + k, m * k), b = random(n * 3L + k, k * n), bias = random(n, n);
                for (Layout l : Layout.values()) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        float[] c0 = random(m + 11L * n, m * n), want = c0.clone();
                        reference(l, m, n, k, a, 0, b, 0, want, 0, accumulate, accumulate ? null : bias, !accumulate);
                        for (int[] blk : blocks) {
                            float[] got = c0.clone();
                            Gemm.sharedB(m, n, k, a, 0, l.ars(m, k), l.acs(m, k), b, 0, l.brs(n, k), l.bcs(n, k), got, 0,
                                    n, 1, false, accumulate, accumulate ? null : bias, !accumulate, blk[0], blk[1], blk[2],
                                    threads);
                            assertArrayEquals(want, got, l + " " + m + "x" + n + "x" + k + " acc=" + accumulate
                                    + " blocks " + java.util.Arrays.toString(blk) + " threads " + threads);
                        }
                    }
                }
            }
        }
    }

    @Test
    void zeroSizedProducts() {
        float[] c = {7f, 7f};
        Gemm.gemm(0, 2, 3, new float[0], 0, 3, 1, new float[6], 0, 2, 1, c, 0, false, null, false);
        assertEquals(7f, c[0]);
        Gemm.gemm(1, 2, 0, new float[0], 0, 0, 1, new float[0], 0, 2, 1, c, 0, false, null, false);
        assertArrayEquals(new float[] {0f, 0f}, c);
    }
}
