package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Holds every Vector API kernel to its scalar twin on awkward sizes. */
class FloatKernelsTwinTest {

    private static final int[] SIZES = {1, 3, 15, 17, 33, 257};
    private final FloatKernels scalar = new ScalarFloatKernels();
    private final FloatKernels vector = new VectorFloatKernels();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** Products of length k differ between twins only by rounding: bound it by k ulps of the magnitude. */
    private static void assertClose(float[] expected, float[] actual, int k) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            float tol = 1e-5f * (k + 1) + 1e-5f * Math.abs(expected[i]);
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }

    @Test
    void maxPool2x2MatchesItsTwinOnTiesSignedZerosAndNaNs() {
        // few distinct values, so windows tie often; NaNs of both signs and several payloads
        float[] values = {-1f, 0f, -0f, 1f, 2f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7fffffff)};
        SplittableRandom r = new SplittableRandom(17);
        for (int trial = 0; trial < 200; trial++) {
            int planes = 1 + r.nextInt(3), h = 2 + r.nextInt(9), w = 2 + r.nextInt(70);
            boolean nans = trial % 3 == 0;
            float[] x = new float[planes * h * w];
            for (int i = 0; i < x.length; i++) x[i] = values[r.nextInt(nans ? values.length : 5)];
            int out = planes * (h / 2) * (w / 2);
            float[] ys = new float[out], yv = new float[out];
            int[] as = new int[out], av = new int[out];
            int from = r.nextInt(planes), to = from + 1 + r.nextInt(planes - from);
            scalar.maxPool2x2(x, h, w, from, to, ys, as);
            vector.maxPool2x2(x, h, w, from, to, yv, av);
            String where = planes + " planes of " + h + "x" + w + ", [" + from + ", " + to + ")";
            assertArrayEquals(as, av, where);
            for (int i = 0; i < out; i++) {
                assertEquals(Float.floatToRawIntBits(ys[i]), Float.floatToRawIntBits(yv[i]), where + ", output " + i);
            }
        }
    }

    @Test
    void dotAndAxpy() {
        for (int n : SIZES) {
            float[] a = random(n, n + 5), b = random(n + 1, n + 5);
            assertEquals(scalar.dot(a, 2, b, 3, n), vector.dot(a, 2, b, 3, n), 1e-5f * n);
            float[] y1 = random(n + 2, n + 4), y2 = y1.clone();
            scalar.axpy(0.7f, a, 1, y1, 3, n);
            vector.axpy(0.7f, a, 1, y2, 3, n);
            assertClose(y1, y2, 1);
        }
    }

    @Test
    void gemmAllLayoutsWithAndWithoutAccumulate() {
        for (int m : SIZES) {
            for (int n : new int[] {1, 3, 17, 33}) {
                for (int k : new int[] {1, 15, 257}) {
                    float[] a = random(m * 31 + k, 4 + m * k), b = random(n * 7 + k, 3 + k * n);
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] c0 = random(m + n, 2 + m * n);
                        float[][] ours = {c0.clone(), c0.clone(), c0.clone()};
                        float[][] twin = {c0.clone(), c0.clone(), c0.clone()};
                        scalar.gemmNN(m, n, k, a, 4, b, 3, twin[0], 2, acc);
                        vector.gemmNN(m, n, k, a, 4, b, 3, ours[0], 2, acc);
                        scalar.gemmNT(m, n, k, a, 4, b, 3, twin[1], 2, acc);
                        vector.gemmNT(m, n, k, a, 4, b, 3, ours[1], 2, acc);
                        scalar.gemmTN(m, n, k, a, 4, b, 3, twin[2], 2, acc);
                        vector.gemmTN(m, n, k, a, 4, b, 3, ours[2], 2, acc);
                        for (int l = 0; l < 3; l++) assertClose(twin[l], ours[l], k);
                    }
                }
            }
        }
    }

    @Test
    void gemmOnSizesThatCrossTheTileAndCacheBlocks() {
        // 4 x 16 register tiles, KC = 256 deep, MC = 128 rows: one past and one short of each
        int[][] shapes = {{4, 16, 256}, {5, 17, 257}, {3, 15, 255}, {129, 33, 513}, {127, 47, 300}, {6, 784, 25}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(m + 3L * k, 1 + m * k), b = random(n + 5L * k, 2 + k * n);
            for (boolean acc : new boolean[] {false, true}) {
                float[] c0 = random(m * n, 3 + m * n);
                float[][] ours = {c0.clone(), c0.clone(), c0.clone()};
                float[][] twin = {c0.clone(), c0.clone(), c0.clone()};
                scalar.gemmNN(m, n, k, a, 1, b, 2, twin[0], 3, acc);
                vector.gemmNN(m, n, k, a, 1, b, 2, ours[0], 3, acc);
                scalar.gemmNT(m, n, k, a, 1, b, 2, twin[1], 3, acc);
                vector.gemmNT(m, n, k, a, 1, b, 2, ours[1], 3, acc);
                scalar.gemmTN(m, n, k, a, 1, b, 2, twin[2], 3, acc);
                vector.gemmTN(m, n, k, a, 1, b, 2, ours[2], 3, acc);
                for (int l = 0; l < 3; l++) assertClose(twin[l], ours[l], k);
            }
        }
    }

    @Test
    void gemmNTBiasMatchesItsTwinAndTheUnfusedSequence() {
        for (int m : new int[] {1, 3, 17, 128}) {
            for (int n : new int[] {1, 10, 33, 100}) {
                for (int k : new int[] {1, 15, 257}) {
                    float[] a = random(m * 31L + k, 4 + m * k), b = random(n * 7L + k, 3 + k * n), bias = random(n, n);
                    for (boolean relu : new boolean[] {false, true}) {
                        float[] twin = new float[2 + m * n], fused = twin.clone(), unfused = twin.clone();
                        scalar.gemmNTBias(m, n, k, a, 4, b, 3, bias, twin, 2, relu);
                        vector.gemmNTBias(m, n, k, a, 4, b, 3, bias, fused, 2, relu);
                        assertClose(twin, fused, k);
                        // the fused epilogue rounds exactly as the three separate kernels do
                        vector.gemmNT(m, n, k, a, 4, b, 3, unfused, 2, false);
                        float[] tail = java.util.Arrays.copyOfRange(unfused, 2, unfused.length);
                        vector.addBias(m, n, bias, tail, 0);
                        if (relu) vector.relu(tail, tail, tail.length);
                        System.arraycopy(tail, 0, unfused, 2, tail.length);
                        assertArrayEquals(unfused, fused);
                    }
                }
            }
        }
    }

    @Test
    void gemmGivesTheSameBitsBeforeAndAfterJitWarmUp() {
        // the first calls run in the interpreter, the last ones in C2-compiled code
        int m = 37, n = 45, k = 70;
        float[] a = random(11, m * k), b = random(12, k * n);
        float[] first = new float[m * n];
        vector.gemmNT(m, n, k, a, 0, b, 0, first, 0, false);
        float[] again = new float[m * n];
        for (int rep = 0; rep < 3000; rep++) vector.gemmNT(m, n, k, a, 0, b, 0, again, 0, false);
        assertArrayEquals(first, again);
        float[] y0 = new float[m], y1 = new float[m];
        vector.gemv(m, k, a, 0, b, 0, y0, 0, false);
        for (int rep = 0; rep < 20000; rep++) vector.gemv(m, k, a, 0, b, 0, y1, 0, false);
        assertArrayEquals(y0, y1);
    }

    @Test
    void fusedLinearForwardIsBitIdenticalWhateverTheThreadCount() {
        // big enough to be shared out, and narrow enough (10 outputs) to run as C^T
        for (int[] s : new int[][] {{512, 10, 1000}, {300, 130, 257}}) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(21, m * k), b = random(22, n * k), bias = random(23, n);
            float[][] out = new float[2][m * n];
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                vector.gemmNTBias(m, n, k, a, 0, b, 0, bias, out[threads - 1], 0, true);
            }
            assertArrayEquals(out[0], out[1]);
        }
    }

    @Test
    void gemvIsBitIdenticalWhateverTheThreadCount() {
        int m = 1027, n = 1031;
        float[] a = random(5, m * n), x = random(6, n);
        Parallel.setThreads(1);
        float[] one = new float[m];
        vector.gemv(m, n, a, 0, x, 0, one, 0, false);
        Parallel.setThreads(2);
        float[] two = new float[m];
        vector.gemv(m, n, a, 0, x, 0, two, 0, false);
        assertArrayEquals(one, two);
    }

    @Test
    void gemmIsBitIdenticalWhateverTheThreadCount() {
        int m = 130, n = 77, k = 300;
        float[] a = random(1, m * k), b = random(2, k * n);
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            float[] nn = new float[m * n], nt = new float[m * n], tn = new float[m * n];
            vector.gemmNN(m, n, k, a, 0, b, 0, nn, 0, false);
            vector.gemmNT(m, n, k, a, 0, b, 0, nt, 0, false);
            vector.gemmTN(m, n, k, a, 0, b, 0, tn, 0, false);
            if (threads == 1) {
                results = new float[][] {nn, nt, tn};
            } else {
                assertArrayEquals(results[0], nn);
                assertArrayEquals(results[1], nt);
                assertArrayEquals(results[2], tn);
            }
        }
    }

    @Test
    void gemv() {
        for (int m : new int[] {1, 3, 4, 5, 15, 17, 33, 257}) {
            for (int n : new int[] {1, 3, 7, 8, 15, 17, 33, 63, 64, 65, 257}) {
                float[] a = random(m * n, 1 + m * n), x = random(n, n + 2);
                float[] y1 = random(m, m + 1), y2 = y1.clone();
                scalar.gemv(m, n, a, 1, x, 2, y1, 1, true);
                vector.gemv(m, n, a, 1, x, 2, y2, 1, true);
                assertClose(y1, y2, n);
            }
        }
    }

    @Test
    void biasColumnSumsAndRelu() {
        for (int rows : SIZES) {
            for (int cols : SIZES) {
                float[] bias = random(cols, cols), c1 = random(rows * cols, 1 + rows * cols), c2 = c1.clone();
                scalar.addBias(rows, cols, bias, c1, 1);
                vector.addBias(rows, cols, bias, c2, 1);
                assertArrayEquals(c1, c2);
                float[] s1 = random(9, cols), s2 = s1.clone();
                scalar.columnSums(rows, cols, c1, 1, s1, true);
                vector.columnSums(rows, cols, c1, 1, s2, true);
                assertClose(s1, s2, rows);
            }
            float[] x = random(rows, rows), g = random(rows + 9, rows);
            float[] y1 = new float[rows], y2 = new float[rows], g1 = new float[rows], g2 = new float[rows];
            scalar.relu(x, y1, rows);
            vector.relu(x, y2, rows);
            assertArrayEquals(y1, y2);
            scalar.reluBackward(x, g, g1, rows);
            vector.reluBackward(x, g, g2, rows);
            assertArrayEquals(g1, g2);
        }
    }

    @Test
    void softmaxAndLogSoftmax() {
        for (int rows : new int[] {1, 3, 17}) {
            for (int cols : SIZES) {
                float[] x = random(rows * cols, rows * cols);
                for (int i = 0; i < x.length; i++) x[i] *= 30f;
                float[] p1 = new float[x.length], p2 = new float[x.length];
                scalar.softmax(rows, cols, x, p1);
                vector.softmax(rows, cols, x, p2);
                assertClose(p1, p2, 4);
                scalar.logSoftmax(rows, cols, x, p1);
                vector.logSoftmax(rows, cols, x, p2);
                assertClose(p1, p2, 4);
                for (int r = 0; r < rows; r++) {
                    double sum = 0;
                    for (int j = 0; j < cols; j++) sum += Math.exp(p2[r * cols + j]);
                    assertEquals(1.0, sum, 1e-4);
                }
            }
        }
    }
}
