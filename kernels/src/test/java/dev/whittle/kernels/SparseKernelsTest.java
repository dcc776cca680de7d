package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sparse kernels: vector == twin bit for bit on awkward shapes, twin == dense within rounding. */
class SparseKernelsTest {

    private static final int[] SIZES = {1, 3, 17, 33, 257};
    private static final double[] DENSITIES = {0, 0.01, 0.1, 0.5, 1};
    private static final int[] BATCHES = {1, 2, 3, 8, 9, 17};
    private final SparseKernels scalar = new ScalarSparseKernels();
    private final SparseKernels vector = new VectorSparseKernels();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    /** A random matrix of about the given density, with every third row emptied when sparse enough. */
    static float[] randomDense(SplittableRandom r, int rows, int cols, double density) {
        float[] d = new float[rows * cols];
        for (int i = 0; i < d.length; i++) if (r.nextDouble() < density) d[i] = (float) r.nextGaussian();
        if (density < 1) for (int i = 0; i < rows; i += 3) java.util.Arrays.fill(d, i * cols, (i + 1) * cols, 0f);
        return d;
    }

    private static float[] floats(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", twin gives " + expected[i]);
            }
        }
    }

    @Test
    void spmvVectorMatchesTwinBitForBit() {
        SplittableRandom r = new SplittableRandom(1);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int rows : SIZES) for (int cols : SIZES) for (double d : DENSITIES) {
                CsrMatrix a = CsrMatrix.of(randomDense(r, rows, cols, d), 0, rows, cols);
                float[] x = floats(r, cols + 5);
                float[] ys = new float[rows + 2], yv = new float[rows + 2];
                scalar.spmv(a, x, 5, ys, 2);
                vector.spmv(a, x, 5, yv, 2);
                assertBits(ys, yv, "spmv " + rows + "x" + cols + " density " + d + " threads " + threads);
            }
        }
    }

    @Test
    void spmmVectorMatchesTwinBitForBit() {
        SplittableRandom r = new SplittableRandom(2);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int rows : SIZES) for (int cols : SIZES) for (double d : DENSITIES) for (int m : BATCHES) {
                CsrMatrix a = CsrMatrix.of(randomDense(r, rows, cols, d), 0, rows, cols);
                float[] x = floats(r, m * cols + 3);
                float[] bias = r.nextBoolean() ? floats(r, rows) : null;
                boolean relu = r.nextBoolean();
                float[] ys = new float[m * rows + 1], yv = new float[m * rows + 1];
                scalar.spmmNT(m, x, 3, a, bias, relu, ys, 1);
                vector.spmmNT(m, x, 3, a, bias, relu, yv, 1);
                assertBits(ys, yv, "spmmNT m " + m + " " + rows + "x" + cols + " density " + d + " threads " + threads);
            }
        }
    }

    @Test
    void largeProductsSplitAcrossThreadsGiveTheSameBits() {
        // big enough to pass the parallel thresholds, so the 2-thread run really splits the rows
        SplittableRandom r = new SplittableRandom(3);
        CsrMatrix a = CsrMatrix.of(randomDense(r, 1031, 1000, 0.2), 0, 1031, 1000);
        float[] x = floats(r, 64 * 1000), bias = floats(r, 1031);
        float[] ys = new float[64 * 1031];
        scalar.spmmNT(64, x, 0, a, bias, true, ys, 0);
        float[] vs = new float[1031];
        scalar.spmv(a, x, 0, vs, 0);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            float[] yv = new float[64 * 1031], v = new float[1031];
            vector.spmmNT(64, x, 0, a, bias, true, yv, 0);
            vector.spmv(a, x, 0, v, 0);
            assertBits(ys, yv, "spmmNT threads " + threads);
            assertBits(vs, v, "spmv threads " + threads);
        }
    }

    @Test
    void indicesPast16BitsGiveTheSameBits() {
        // indices past 65535 (a 16-bit layout would wrap them): still the twin's bits
        SplittableRandom r = new SplittableRandom(7);
        int rows = 17, cols = 70_001;
        float[] w = randomDense(r, rows, cols, 0.01);
        w[cols - 1] = 1.5f;  // an index past 65535 in row 0
        CsrMatrix a = CsrMatrix.of(w, 0, rows, cols);
        assertEquals(4L * (rows + 1) + 8L * a.nnz(), a.storedBytes());
        assertArrayEquals(w, a.toDense());
        float[] x = floats(r, 9 * cols), bias = floats(r, rows);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            float[] ys = new float[rows], yv = new float[rows];
            scalar.spmv(a, x, cols, ys, 0);
            vector.spmv(a, x, cols, yv, 0);
            assertBits(ys, yv, "wide spmv threads " + threads);
            float[] gs = new float[9 * rows], gv = new float[9 * rows];
            scalar.spmmNT(9, x, 0, a, bias, true, gs, 0);
            vector.spmmNT(9, x, 0, a, bias, true, gv, 0);
            assertBits(gs, gv, "wide spmmNT threads " + threads);
        }
    }

    @Test
    void spmmRowIsSpmvPlusBias() {
        // one order for both products: a batch row of spmmNT is spmv of that row of x, plus bias
        SplittableRandom r = new SplittableRandom(4);
        CsrMatrix a = CsrMatrix.of(randomDense(r, 33, 257, 0.3), 0, 33, 257);
        float[] x = floats(r, 9 * 257), bias = floats(r, 33);
        float[] y = new float[9 * 33];
        vector.spmmNT(9, x, 0, a, bias, false, y, 0);
        for (int b = 0; b < 9; b++) {
            float[] v = new float[33];
            vector.spmv(a, x, b * 257, v, 0);
            for (int i = 0; i < 33; i++) v[i] += bias[i];
            assertBits(v, java.util.Arrays.copyOfRange(y, b * 33, b * 33 + 33), "batch row " + b);
        }
    }

    @Test
    void twinMatchesDenseWithinRounding() {
        SplittableRandom r = new SplittableRandom(5);
        FloatKernels dense = new ScalarFloatKernels();
        for (int rows : SIZES) for (int cols : SIZES) for (double d : DENSITIES) {
            float[] w = randomDense(r, rows, cols, d);
            CsrMatrix a = CsrMatrix.of(w, 0, rows, cols);
            int m = 5;
            float[] x = floats(r, m * cols), bias = floats(r, rows);
            float[] yd = new float[rows], ys = new float[rows];
            dense.gemv(rows, cols, w, 0, x, 0, yd, 0, false);
            scalar.spmv(a, x, 0, ys, 0);
            float tol = 1e-5f * cols;
            assertArrayEquals(yd, ys, tol, "spmv " + rows + "x" + cols + " density " + d);
            float[] gd = new float[m * rows], gs = new float[m * rows];
            dense.gemmNTBias(m, rows, cols, x, 0, w, 0, bias, gd, 0, true);
            scalar.spmmNT(m, x, 0, a, bias, true, gs, 0);
            assertArrayEquals(gd, gs, tol, "spmmNT " + rows + "x" + cols + " density " + d);
        }
    }

    @Test
    void denseRoundTripKeepsExactlyTheNonzeros() {
        SplittableRandom r = new SplittableRandom(6);
        for (int rows : SIZES) for (int cols : SIZES) for (double d : DENSITIES) {
            float[] w = randomDense(r, rows, cols, d);
            float[] padded = new float[w.length + 7];
            System.arraycopy(w, 0, padded, 7, w.length);
            CsrMatrix a = CsrMatrix.of(padded, 7, rows, cols);
            assertArrayEquals(w, a.toDense());
            int nnz = 0;
            for (float v : w) if (v != 0f) nnz++;
            assertEquals(nnz, a.nnz());
            assertEquals((double) nnz / (rows * cols), a.density(), 1e-12);
            assertEquals(4L * (rows + 1) + 8L * nnz, a.storedBytes());
            CsrMatrix again = CsrMatrix.of(rows, cols, a.rowPointers(), a.columnIndices(), a.values());
            assertEquals(a, again);
        }
    }

    @Test
    void csrArraysFollowTheLayout() {
        float[] w = {0, 2, 0, 3,
                     0, 0, 0, 0,
                     5, 0, 0, -0f};
        CsrMatrix a = CsrMatrix.of(w, 0, 3, 4);
        assertArrayEquals(new int[] {0, 2, 2, 3}, a.rowPointers());
        assertArrayEquals(new int[] {1, 3, 0}, a.columnIndices());
        assertArrayEquals(new float[] {2, 3, 5}, a.values());
        // the accessors hand out copies
        a.values()[0] = 99;
        assertEquals(2f, a.values()[0]);
    }

    @Test
    void everyMalformedCsrIsRejectedWithItsProblemNamed() {
        int[] rp = {0, 2, 3};
        int[] ci = {0, 2, 1};
        float[] v = {1, 2, 3};
        CsrMatrix.of(2, 3, rp, ci, v);  // the well-formed one
        assertRejected("empty", () -> CsrMatrix.of(0, 3, new int[] {0}, new int[0], new float[0]));
        assertRejected("empty", () -> CsrMatrix.of(2, 0, rp, ci, v));
        assertRejected("rows + 1", () -> CsrMatrix.of(2, 3, new int[] {0, 3}, ci, v));
        assertRejected("values has", () -> CsrMatrix.of(2, 3, rp, ci, new float[] {1, 2}));
        assertRejected("rowPointers[0]", () -> CsrMatrix.of(2, 3, new int[] {1, 2, 3}, ci, v));
        assertRejected("decrease at row 1", () -> CsrMatrix.of(2, 3, new int[] {0, 4, 3}, ci, v));
        assertRejected("3 nonzeros", () -> CsrMatrix.of(2, 3, new int[] {0, 2, 2}, ci, v));
        assertRejected("outside [0, 3)", () -> CsrMatrix.of(2, 3, rp, new int[] {0, 3, 1}, v));
        assertRejected("outside [0, 3)", () -> CsrMatrix.of(2, 3, rp, new int[] {-1, 2, 1}, v));
        assertRejected("not strictly increasing", () -> CsrMatrix.of(2, 3, rp, new int[] {2, 0, 1}, v));
        assertRejected("not strictly increasing", () -> CsrMatrix.of(2, 3, rp, new int[] {1, 1, 1}, v));
        assertRejected("not finite", () -> CsrMatrix.of(2, 3, rp, ci, new float[] {1, Float.NaN, 3}));
        assertRejected("not finite", () -> CsrMatrix.of(2, 3, rp, ci, new float[] {1, 2, Float.POSITIVE_INFINITY}));
        assertRejected("not finite", () -> CsrMatrix.of(new float[] {0, Float.NaN}, 0, 1, 2));
        assertRejected("does not fit", () -> CsrMatrix.of(new float[5], 0, 2, 3));
        assertRejected("does not fit", () -> CsrMatrix.of(new float[6], -1, 2, 3));
    }

    @Test
    void kernelsCheckTheirOperands() {
        CsrMatrix a = CsrMatrix.of(new float[] {1, 0, 0, 2, 3, 0}, 0, 2, 3);
        for (SparseKernels k : new SparseKernels[] {scalar, vector}) {
            assertRejected("x:", () -> k.spmv(a, new float[2], 0, new float[2], 0));
            assertRejected("x:", () -> k.spmv(a, new float[3], 1, new float[2], 0));
            assertRejected("y:", () -> k.spmv(a, new float[3], 0, new float[2], 1));
            assertRejected("negative", () -> k.spmmNT(-1, new float[3], 0, a, null, false, new float[2], 0));
            assertRejected("x:", () -> k.spmmNT(2, new float[5], 0, a, null, false, new float[4], 0));
            assertRejected("y:", () -> k.spmmNT(2, new float[6], 0, a, null, false, new float[3], 0));
            assertRejected("bias", () -> k.spmmNT(2, new float[6], 0, a, new float[1], false, new float[4], 0));
        }
    }

    private static void assertRejected(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        if (!e.getMessage().contains(fragment)) throw new AssertionError("message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void sparseConvolutionVectorMatchesTwinAndDenseIntegerSumsExactly() {
        SplittableRandom r = new SplittableRandom(11);
        FloatKernels dense = new ScalarFloatKernels();
        // {outC, inC, height, width, kernel, pad}: LeNet-5's two, and awkward widths around 8 lanes
        int[][] shapes = {{6, 1, 28, 28, 5, 2}, {16, 6, 14, 14, 5, 0}, {3, 2, 7, 9, 3, 1}, {1, 1, 1, 1, 1, 0}, {5, 3, 17, 17, 3, 1},
                {2, 4, 5, 33, 5, 2}, {4, 2, 6, 6, 5, 0}};
        for (int[] sh : shapes) {
            int outC = sh[0], inC = sh[1], h = sh[2], w = sh[3], k = sh[4], pad = sh[5];
            for (double density : DENSITIES) {
                // int8 weights and centred int8 inputs as floats: every sum is an exact integer
                float[] weights = new float[outC * inC * k * k];
                for (int i = 0; i < weights.length; i++) if (r.nextDouble() < density) weights[i] = r.nextInt(-127, 128);
                float[] x = new float[inC * h * w];
                for (int i = 0; i < x.length; i++) x[i] = r.nextInt(-255, 256);
                SparseFilters f = SparseFilters.of(weights, outC, inC, h, w, k, pad);
                float[] padded = new float[f.paddedLength()];
                f.fillPadded(x, 0, padded);
                int n = outC * f.outputHeight() * f.outputWidth();
                float[] a = new float[n + 3], b = new float[n + 3], expected = new float[n];
                float[] plane = new float[f.planeLength()];
                scalar.conv2dSparse(f, padded, plane, a, 3);
                vector.conv2dSparse(f, padded, plane, b, 3);
                String what = java.util.Arrays.toString(sh) + " density " + density;
                assertBits(a, b, what);
                dense.conv2dDirect(x, 0, inC, h, w, weights, new float[outC], outC, k, pad, expected, 0);
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(b, 3, n + 3), what);
                // the same sums left in their planes, rows paddedWidth apart
                int positions = f.planeLength(), pw = f.paddedWidth(), oh = f.outputHeight(), ow = f.outputWidth();
                float[] pa = new float[outC * positions + 2], pb = new float[outC * positions + 2];
                scalar.conv2dSparsePlanes(f, padded, pa, 2);
                vector.conv2dSparsePlanes(f, padded, pb, 2);
                assertBits(pa, pb, what + " (planes)");
                for (int o = 0; o < outC; o++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            assertEquals(expected[(o * oh + oy) * ow + ox], pb[2 + o * positions + oy * pw + ox], what + " planes at " + o + "," + oy + "," + ox);
                        }
                    }
                }
            }
        }
    }

    @Test
    void denseTapsGiveTheBitsOfNonzeroTapsTwoFiltersAtATime() {
        SplittableRandom r = new SplittableRandom(12);
        // {outC, inC, height, width, kernel, pad}: even and odd filter counts, planes of one and several blocks
        int[][] shapes = {{6, 1, 28, 28, 5, 2}, {16, 6, 14, 14, 5, 0}, {3, 2, 7, 9, 3, 1}, {1, 1, 1, 1, 1, 0}, {5, 3, 17, 17, 3, 1}};
        for (int[] sh : shapes) {
            int outC = sh[0], inC = sh[1], h = sh[2], w = sh[3], k = sh[4], pad = sh[5];
            for (double density : new double[] {0.5, 0.9, 1}) {
                float[] weights = new float[outC * inC * k * k];
                for (int i = 0; i < weights.length; i++) if (r.nextDouble() < density) weights[i] = r.nextInt(-127, 128);
                float[] x = new float[inC * h * w];
                for (int i = 0; i < x.length; i++) x[i] = r.nextInt(-255, 256);
                SparseFilters nonzero = SparseFilters.of(weights, outC, inC, h, w, k, pad);
                SparseFilters all = SparseFilters.dense(weights, outC, inC, h, w, k, pad);
                assertEquals(weights.length, all.nnz());
                float[] padded = new float[all.paddedLength()];
                all.fillPadded(x, 0, padded);
                int positions = all.planeLength();
                float[] want = new float[outC * positions + 1], got = new float[outC * positions + 1], twin = new float[outC * positions + 1];
                vector.conv2dSparsePlanes(nonzero, padded, want, 1);
                vector.conv2dSparsePlanes(all, padded, got, 1);
                scalar.conv2dSparsePlanes(all, padded, twin, 1);
                String what = java.util.Arrays.toString(sh) + " density " + density;
                assertBits(want, got, what);
                assertBits(twin, got, what + " (twin)");
            }
        }
    }

    @Test
    void sparseFiltersRefuseBadShapesAndValues() {
        assertThrows(IllegalArgumentException.class, () -> SparseFilters.of(new float[10], 1, 1, 3, 3, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> SparseFilters.of(new float[9], 1, 1, 2, 2, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> SparseFilters.of(new float[] {Float.NaN}, 1, 1, 2, 2, 1, 0));
        SparseFilters f = SparseFilters.of(new float[9], 1, 1, 3, 3, 3, 0);
        assertEquals(0, f.nnz());
        assertThrows(IllegalArgumentException.class, () -> vector.conv2dSparse(f, new float[1], new float[f.planeLength()], new float[1], 0));
        assertThrows(IllegalArgumentException.class, () -> vector.conv2dSparse(f, new float[f.paddedLength()], new float[0], new float[1], 0));
        assertThrows(IllegalArgumentException.class, () -> vector.conv2dSparsePlanes(f, new float[f.paddedLength()], new float[f.planeLength() - 1], 0));
        assertThrows(IllegalArgumentException.class, () -> scalar.conv2dSparsePlanes(f, new float[f.paddedLength()], new float[f.planeLength()], 1));
    }
}
