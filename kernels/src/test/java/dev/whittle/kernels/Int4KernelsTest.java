package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The INT4 layout and kernels: W4A8 bit-exact against its twin, W4 FP32 within rounding. */
class Int4KernelsTest {

    private static final int[] SIZES = {1, 3, 17, 33, 257};
    private static final int[] GROUPS = {32, 64, 128};
    private final Int4Kernels scalar = new ScalarInt4Kernels();
    private final Int4Kernels vector = new VectorInt4Kernels();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private static Int4Matrix randomMatrix(SplittableRandom r, int n, int k, int gs) {
        byte[] v = new byte[n * k];
        for (int i = 0; i < v.length; i++) v[i] = (byte) r.nextInt(-8, 8);
        int groups = Quantization.roundUp(k, gs) / gs;
        float[] s = new float[n * groups];
        for (int i = 0; i < s.length; i++) s[i] = (float) r.nextDouble(0.01, 0.2);
        return Int4Matrix.pack(v, 0, n, k, gs, s);
    }

    private static float[] floats(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void evenIndexIsTheLowNibble() {
        byte[] v = {1, -2, 7, -8, 0, 5};
        float[] s = new float[2];
        java.util.Arrays.fill(s, 1f);
        Int4Matrix w = Int4Matrix.pack(v, 0, 1, 6, 32, new float[] {1f});
        byte[] p = w.packed();
        assertEquals(16, p.length);
        assertEquals((byte) 0xE1, p[0]); // q[0] = 1 low, q[1] = -2 = 0xE high
        assertEquals((byte) 0x87, p[1]); // q[2] = 7, q[3] = -8
        assertEquals((byte) 0x50, p[2]);
        for (int i = 3; i < 16; i++) assertEquals(0, p[i], "padding is zero");
        for (int c = 0; c < 6; c++) assertEquals(v[c], w.get(0, c));
        Int4Matrix back = Int4Matrix.ofPacked(p, 1, 6, 32, new float[] {1f});
        for (int c = 0; c < 6; c++) assertEquals(v[c], back.get(0, c));
    }

    @Test
    void packRoundTripsEveryValue() {
        SplittableRandom r = new SplittableRandom(21);
        for (int gs : GROUPS) {
            for (int k : SIZES) {
                Int4Matrix w = randomMatrix(r, 3, k, gs);
                Int4Matrix again = Int4Matrix.ofPacked(w.packed(), 3, k, gs, w.scales());
                assertEquals(3 * w.paddedCols() / 2, w.packed().length);
                for (int j = 0; j < 3; j++) for (int c = 0; c < w.paddedCols(); c++) assertEquals(w.get(j, c), again.get(j, c));
            }
        }
    }

    @Test
    void quantizeStaysWithinHalfAStep() {
        SplittableRandom r = new SplittableRandom(22);
        int n = 4, k = 100;
        float[] f = floats(r, n * k);
        Int4Matrix w = Int4Matrix.quantize(f, 0, n, k, 32);
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                float s = w.scale(j, c / 32);
                assertEquals(f[j * k + c], w.get(j, c) * s, s * 0.5f + 1e-6f);
            }
        }
    }

    /**
     * Depths for group size gs: ragged ones within one block of 16 groups, and two past it (a
     * second block, and a third with one group), where the kernels' in-memory layout moves on by
     * whole blocks.
     */
    private static int[] depths(int gs) {
        return new int[] {1, 3, 17, 33, 100, 257, Int4Matrix.LANES * gs + 33, 2 * Int4Matrix.LANES * gs + 1};
    }

    @Test
    void w4a8BitExactOnAwkwardSizes() {
        SplittableRandom r = new SplittableRandom(23);
        for (int gs : GROUPS) {
            for (int m : new int[] {1, 3, 9}) {
                for (int n : SIZES) {
                    for (int k : depths(gs)) {
                        Int4Matrix w = randomMatrix(r, n, k, gs);
                        int xOff = r.nextInt(3);
                        float[] x = floats(r, xOff + m * k);
                        float[] bias = r.nextBoolean() ? floats(r, n) : null;
                        boolean relu = r.nextBoolean();
                        float[] ys = new float[2 + m * n], yv = new float[2 + m * n];
                        scalar.gemmA8(m, x, xOff, w, bias, relu, ys, 2);
                        vector.gemmA8(m, x, xOff, w, bias, relu, yv, 2);
                        assertArrayEquals(ys, yv, "g=" + gs + " m=" + m + " n=" + n + " k=" + k);
                    }
                }
            }
        }
    }

    @Test
    void dequantizedRowsAreTheTwinsBits() {
        SplittableRandom r = new SplittableRandom(26);
        for (int gs : GROUPS) {
            for (int n : SIZES) {
                for (int k : depths(gs)) {
                    Int4Matrix w = randomMatrix(r, n, k, gs);
                    int row0 = r.nextInt(n), rows = 1 + r.nextInt(n - row0), off = r.nextInt(3);
                    float[] want = new float[off + rows * k], got = new float[off + rows * k + 1];
                    scalar.dequantize(w, row0, rows, want, off);
                    vector.dequantize(w, row0, rows, got, off);
                    assertArrayEquals(want, java.util.Arrays.copyOf(got, want.length), "g=" + gs + " n=" + n + " k=" + k);
                    assertEquals(0f, got[want.length], "wrote past the rows");
                    for (int i = 0; i < rows * k; i++) {
                        int row = row0 + i / k, col = i % k;
                        assertEquals(w.get(row, col) * w.scale(row, col / gs), want[off + i]);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> vector.dequantize(randomMatrix(r, 3, 40, 32), 2, 2, new float[80], 0));
        assertThrows(IllegalArgumentException.class, () -> vector.dequantize(randomMatrix(r, 3, 40, 32), 0, 2, new float[79], 0));
    }

    @Test
    void w4a8ManyRowsBitExact() {
        // from A8_GEMM_ROWS rows on the product runs as per-group FP32 GEMMs: the same bits
        SplittableRandom r = new SplittableRandom(27);
        int m = VectorInt4Kernels.A8_GEMM_ROWS + 1;
        for (int gs : GROUPS) {
            for (int n : new int[] {3, 17}) {
                for (int k : depths(gs)) {
                    Int4Matrix w = randomMatrix(r, n, k, gs);
                    float[] x = floats(r, 1 + m * k);
                    float[] bias = r.nextBoolean() ? floats(r, n) : null;
                    boolean relu = r.nextBoolean();
                    float[] ys = new float[m * n], yv = new float[m * n];
                    scalar.gemmA8(m, x, 1, w, bias, relu, ys, 0);
                    vector.gemmA8(m, x, 1, w, bias, relu, yv, 0);
                    assertArrayEquals(ys, yv, "g=" + gs + " m=" + m + " n=" + n + " k=" + k);
                }
            }
        }
    }

    @Test
    void w4a8Extremes() {
        for (int gs : GROUPS) {
            int n = 3, k = 300;
            for (byte wv : new byte[] {-8, 7}) {
                byte[] v = new byte[n * k];
                java.util.Arrays.fill(v, wv);
                float[] s = new float[n * (Quantization.roundUp(k, gs) / gs)];
                java.util.Arrays.fill(s, 1f);
                Int4Matrix w = Int4Matrix.pack(v, 0, n, k, gs, s);
                for (float xv : new float[] {-1f, 1f, 0f}) {
                    float[] x = new float[k];
                    java.util.Arrays.fill(x, xv);
                    float[] ys = new float[n], yv = new float[n];
                    scalar.gemmA8(1, x, 0, w, null, false, ys, 0);
                    vector.gemmA8(1, x, 0, w, null, false, yv, 0);
                    assertArrayEquals(ys, yv);
                    assertEquals(wv * xv * k, ys[0], Math.abs(wv * xv * k) * 1e-5f);
                }
            }
        }
    }

    @Test
    void w4Fp32WithinRoundingOfTwin() {
        SplittableRandom r = new SplittableRandom(24);
        for (int gs : GROUPS) {
            for (int m : new int[] {1, 3, 8, 20}) {
                for (int n : SIZES) {
                    for (int k : depths(gs)) {
                        Int4Matrix w = randomMatrix(r, n, k, gs);
                        int xOff = r.nextInt(3);
                        float[] x = floats(r, xOff + m * k);
                        float[] bias = r.nextBoolean() ? floats(r, n) : null;
                        boolean relu = r.nextBoolean();
                        float[] ys = new float[m * n], yv = new float[m * n];
                        scalar.gemm(m, x, xOff, w, bias, relu, ys, 0);
                        vector.gemm(m, x, xOff, w, bias, relu, yv, 0);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                // a bound on the rounding: k terms, each |w * s * x| <= 8 * 0.2 * |x|
                                double mag = 0;
                                for (int p = 0; p < k; p++) mag += 1.6 * Math.abs(x[xOff + i * k + p]);
                                assertEquals(ys[i * n + j], yv[i * n + j], 1e-6 * (k + 8) * (mag + 1),
                                        "g=" + gs + " m=" + m + " n=" + n + " k=" + k);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void sameBitsForOneOrTwoThreads() {
        SplittableRandom r = new SplittableRandom(25);
        for (int[] s : new int[][] {{1, 257, 1000}, {3, 300, 784}, {16, 100, 300}, {1, 1030, 1100}, {2, 700, 1000}}) {
            Int4Matrix w = randomMatrix(r, s[1], s[2], 64);
            float[] x = floats(r, s[0] * s[2]);
            float[][] out = new float[4][];
            for (int t = 1; t <= 2; t++) {
                Parallel.setThreads(t);
                float[] a = new float[s[0] * s[1]], b = new float[s[0] * s[1]];
                vector.gemm(s[0], x, 0, w, null, false, a, 0);
                vector.gemmA8(s[0], x, 0, w, null, false, b, 0);
                out[2 * (t - 1)] = a;
                out[2 * (t - 1) + 1] = b;
            }
            assertArrayEquals(out[0], out[2]);
            assertArrayEquals(out[1], out[3]);
        }
    }

    @Test
    void rejectsBadInput() {
        float[] one = {1f};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Int4Matrix.ofPacked(new byte[15], 1, 6, 32, one));
        assertTrue(e.getMessage().contains("15") && e.getMessage().contains("16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[17], 1, 6, 32, one));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[24], 1, 6, 48, one));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[16], 1, 6, 32, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[16], 1, 6, 32, new float[] {0f}));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[16], 1, 6, 32, new float[] {Float.NaN}));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[16], 1, 6, 32, new float[] {-1f}));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.ofPacked(new byte[16], 1, 6, 32,
                new float[] {Float.POSITIVE_INFINITY}));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.pack(new byte[] {8}, 0, 1, 1, 32, one));
        assertThrows(IllegalArgumentException.class, () -> Int4Matrix.pack(new byte[] {-9}, 0, 1, 1, 32, one));
        Int4Matrix w = Int4Matrix.pack(new byte[] {1, 2}, 0, 1, 2, 32, one);
        for (Int4Kernels k : new Int4Kernels[] {scalar, vector}) {
            assertThrows(IllegalArgumentException.class, () -> k.gemm(1, new float[1], 0, w, null, false, new float[1], 0));
            assertThrows(IllegalArgumentException.class, () -> k.gemmA8(1, new float[2], 0, w, new float[2], false, new float[1], 0));
            assertThrows(IllegalArgumentException.class, () -> k.gemm(1, new float[2], 0, w, null, false, new float[0], 0));
        }
    }

    @Test
    void staysBitExactOnceCompiled() {
        SplittableRandom r = new SplittableRandom(26);
        for (int gs : GROUPS) {
            Int4Matrix w = randomMatrix(r, 5, 200, gs);
            float[] x = floats(r, 200);
            float[] expected = new float[5], got = new float[5];
            scalar.gemmA8(1, x, 0, w, null, false, expected, 0);
            for (int t = 0; t < 6000; t++) {
                vector.gemmA8(1, x, 0, w, null, false, got, 0);
                if (t % 500 == 0 || t == 5999) assertArrayEquals(expected, got, "call " + t);
            }
        }
    }

    @Test
    void w4Fp32ManyChannelsGoThroughBlocks() {
        SplittableRandom r = new SplittableRandom(27);
        int m = 8, n = 3600, k = 300; // more weights than one dequantized block holds
        Int4Matrix w = randomMatrix(r, n, k, 32);
        float[] x = floats(r, m * k), bias = floats(r, n);
        float[] ys = new float[m * n], yv = new float[m * n];
        scalar.gemm(m, x, 0, w, bias, true, ys, 0);
        vector.gemm(m, x, 0, w, bias, true, yv, 0);
        for (int i = 0; i < ys.length; i++) assertEquals(ys[i], yv[i], 2e-3f, "element " + i);
    }
}
