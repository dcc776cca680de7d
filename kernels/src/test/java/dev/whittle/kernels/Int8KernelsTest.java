package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Holds the Vector API INT8 kernels to their scalar twin, bit for bit. */
class Int8KernelsTest {

    private static final int[] SIZES = {1, 3, 17, 33, 257};
    private final Int8Kernels scalar = new ScalarInt8Kernels();
    private final Int8Kernels vector = new VectorInt8Kernels();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    private static byte[] bytes(SplittableRandom r, int n, int lo, int hi) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) r.nextInt(lo, hi + 1);
        return b;
    }

    /** A random layer: per-channel weight scales, a bias, an output zero point. */
    private record Layer(Int8Matrix w, int zx, int[] bias, float[] scales, Int8Requantization rq) {}

    private static Layer layer(SplittableRandom r, int n, int k, boolean relu, double multiplierBoost) {
        Int8Matrix w = Int8Matrix.pack(bytes(r, n * k, -127, 127), 0, n, k);
        int zx = r.nextInt(-128, 128);
        int[] bias = new int[n];
        float[] ws = new float[n], scales = new float[n];
        for (int j = 0; j < n; j++) {
            bias[j] = r.nextInt(-50000, 50000);
            ws[j] = (float) r.nextDouble(0.001, 0.05);
        }
        float sIn = 0.02f;
        float sOut = (float) (sIn * 0.03 * Math.sqrt(k) * 40 / multiplierBoost);
        for (int j = 0; j < n; j++) scales[j] = sIn * ws[j];
        Int8Requantization rq = Int8Requantization.of(sIn, ws, sOut, r.nextInt(-128, 128), bias, relu);
        return new Layer(w, zx, bias, scales, rq);
    }

    private void assertTwins(int m, int n, int k, SplittableRandom r, boolean relu, double boost, byte[] x, int xOff) {
        Layer l = layer(r, n, k, relu, boost);
        int yOff = 3;
        byte[] ys = new byte[yOff + m * n], yv = new byte[yOff + m * n];
        scalar.gemm(m, x, xOff, l.zx, l.w, l.rq, ys, yOff);
        vector.gemm(m, x, xOff, l.zx, l.w, l.rq, yv, yOff);
        String at = "m=" + m + " n=" + n + " k=" + k;
        assertArrayEquals(ys, yv, "int8 " + at);
        int[] is = new int[yOff + m * n], iv = new int[yOff + m * n];
        scalar.gemmInt32(m, x, xOff, l.zx, l.w, l.bias, is, yOff);
        vector.gemmInt32(m, x, xOff, l.zx, l.w, l.bias, iv, yOff);
        assertArrayEquals(is, iv, "int32 " + at);
        float[] fs = new float[yOff + m * n], fv = new float[yOff + m * n];
        scalar.gemmFloat(m, x, xOff, l.zx, l.w, l.bias, l.scales, relu, fs, yOff);
        vector.gemmFloat(m, x, xOff, l.zx, l.w, l.bias, l.scales, relu, fv, yOff);
        assertArrayEquals(fs, fv, "float " + at);
        if (relu) {
            for (int i = yOff; i < ys.length; i++) assertTrue(ys[i] >= Math.max(l.rq.outputZeroPoint, -128));
        }
    }

    @Test
    void bitExactOnAwkwardSizes() {
        SplittableRandom r = new SplittableRandom(11);
        for (int m : new int[] {1, 3, 17, 33}) {
            for (int n : SIZES) {
                for (int k : SIZES) {
                    int xOff = r.nextInt(4);
                    byte[] x = bytes(r, xOff + m * k, -128, 127);
                    assertTwins(m, n, k, r, (m + n + k) % 2 == 0, 1, x, xOff);
                }
            }
        }
    }

    @Test
    void bitExactOnTheGemmPathAndLongRows() {
        SplittableRandom r = new SplittableRandom(12);
        for (int[] s : new int[][] {{257, 33, 257}, {8, 257, 17}, {7, 5, 1025}, {9, 33, 2100}, {40, 3, 1024}, {1, 17, 3000}, {1100, 5, 1030}, {48, 16500, 64}, {60, 17, 2100}, {48, 9, 1025}, {47, 9, 1025}}) {
            byte[] x = bytes(r, s[0] * s[2], -128, 127);
            assertTwins(s[0], s[1], s[2], r, false, 1, x, 0);
            assertTwins(s[0], s[1], s[2], r, true, 1, x, 0);
        }
    }

    @Test
    void bitExactWhenLargeWeightsStreamTwoRowsAtATime() {
        // over a megabyte of weights the GEMV pairs rows far apart; odd row counts leave one over
        SplittableRandom r = new SplittableRandom(17);
        for (int[] s : new int[][] {{1, 1031, 1030}, {3, 1024, 1057}, {2, 2049, 513}}) {
            byte[] x = bytes(r, s[0] * s[2], -128, 127);
            assertTwins(s[0], s[1], s[2], r, true, 1, x, 0);
        }
    }

    @Test
    void saturationExtremes() {
        SplittableRandom r = new SplittableRandom(13);
        for (int k : new int[] {33, 1024, 2049}) {
            for (int m : new int[] {1, 9, 50}) {
                for (byte xv : new byte[] {-128, 127}) {
                    for (byte wv : new byte[] {-127, 127}) {
                        int n = 5;
                        byte[] x = new byte[m * k];
                        java.util.Arrays.fill(x, xv);
                        byte[] wb = new byte[n * k];
                        java.util.Arrays.fill(wb, wv);
                        Int8Matrix w = Int8Matrix.pack(wb, 0, n, k);
                        for (int zx : new int[] {0, -128, 127}) {
                            int[] is = new int[m * n], iv = new int[m * n];
                            scalar.gemmInt32(m, x, 0, zx, w, null, is, 0);
                            vector.gemmInt32(m, x, 0, zx, w, null, iv, 0);
                            assertArrayEquals(is, iv);
                            assertEquals((long) (xv - zx) * wv * k, is[0], "the exact sum");
                            // a large multiplier saturates, a tiny one gives the zero point
                            for (double mult : new double[] {1e5, 1.0, 1e-12}) {
                                QuantMultiplier[] ms = new QuantMultiplier[n];
                                java.util.Arrays.fill(ms, QuantMultiplier.of(mult));
                                Int8Requantization rq = Int8Requantization.of(ms, null, 10, r.nextBoolean());
                                byte[] ys = new byte[m * n], yv = new byte[m * n];
                                scalar.gemm(m, x, 0, zx, w, rq, ys, 0);
                                vector.gemm(m, x, 0, zx, w, rq, yv, 0);
                                assertArrayEquals(ys, yv);
                                long sum = (long) (xv - zx) * wv * k;
                                if (mult == 1e5 && sum != 0) assertEquals(sum > 0 ? 127 : rq.requantize(-1 << 30, 0), ys[0]);
                                if (mult == 1e-12) assertEquals(10, ys[0]);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void requantizationIsTheExactFormula() {
        SplittableRandom r = new SplittableRandom(14);
        for (int t = 0; t < 5000; t++) {
            int n = 3;
            QuantMultiplier[] ms = new QuantMultiplier[n];
            for (int j = 0; j < n; j++) ms[j] = QuantMultiplier.of(Math.scalb(r.nextDouble(0.5, 1), r.nextInt(-20, 4)));
            int[] bias = {r.nextInt(-1000, 1000), r.nextInt(), 0};
            int zOut = r.nextInt(-128, 128);
            boolean relu = r.nextBoolean();
            Int8Requantization rq = Int8Requantization.of(ms, bias, zOut, relu);
            int acc = r.nextInt(-1 << 24, 1 << 24);
            for (int j = 0; j < n; j++) {
                int a = acc + bias[j];
                BigInteger num = BigInteger.valueOf(a).multiply(BigInteger.valueOf(ms[j].multiplier()))
                        .add(BigInteger.ONE.shiftLeft(ms[j].shift() - 1));
                long v = num.shiftRight(ms[j].shift()).longValueExact() + zOut;
                long lo = relu ? Math.max(zOut, -128) : -128;
                assertEquals(Math.max(lo, Math.min(127, v)), rq.requantize(acc, j));
            }
        }
    }

    @Test
    void gemmPathRequantizesTiesAndEveryShiftExactly() {
        // exact multipliers make real ties; shifts on both sides of the double-precision epilogue's limit
        SplittableRandom r = new SplittableRandom(16);
        for (double mult : new double[] {0.5, 1.0 / 64, 0x1p-12, 0x1p-13, 0x1p-14, 0.37 * 0x1p-13, 3e-7, 1e-12, 37.0}) {
            int m = 50, n = 19, k = 7;
            byte[] x = bytes(r, m * k, -128, 127);
            Int8Matrix w = Int8Matrix.pack(bytes(r, n * k, -127, 127), 0, n, k);
            QuantMultiplier[] ms = new QuantMultiplier[n];
            java.util.Arrays.fill(ms, QuantMultiplier.of(mult));
            int[] bias = new int[n];
            for (int j = 0; j < n; j++) bias[j] = r.nextInt(-300, 300);
            assertGemmTwinsWithAndWithoutRelu(r, m, x, w, ms, bias, 128, "multiplier " + mult);
        }
    }

    /**
     * The int8 GEMM of both kernels, for ReLU off then on, each with a random output zero point
     * and an input zero point in {@code [-128, zxEnd)}, must give the same bytes.
     */
    private void assertGemmTwinsWithAndWithoutRelu(SplittableRandom r, int m, byte[] x, Int8Matrix w,
                                                   QuantMultiplier[] ms, int[] bias, int zxEnd, String what) {
        int n = ms.length;
        for (boolean relu : new boolean[] {false, true}) {
            Int8Requantization rq = Int8Requantization.of(ms, bias, r.nextInt(-128, 128), relu);
            byte[] ys = new byte[m * n], yv = new byte[m * n];
            int zx = r.nextInt(-128, zxEnd);
            scalar.gemm(m, x, 0, zx, w, rq, ys, 0);
            vector.gemm(m, x, 0, zx, w, rq, yv, 0);
            assertArrayEquals(ys, yv, what);
        }
    }

    @Test
    void gemmPathIsExactForMixedShiftsAndOffsetsUpToTheInt32Edge() {
        // the GEMM finishes one K chunk in doubles: one rounding nudge for every shift, offsets
        // large enough that a * m leaves double precision (clamped anyway), or int32 (wrapping)
        SplittableRandom r = new SplittableRandom(18);
        double[] mults = {0.5, 0x1p-12, 1.0 / 64, 0x1p-13, 0.77 * 0x1p-12, 0x1p-7, 0.99}; // shifts 31 to 43
        for (int big : new int[] {0, 1 << 21, 1 << 25, Integer.MAX_VALUE - (1 << 20), Integer.MAX_VALUE}) {
            // x - zx >= 0, even channels' weights >= 0 and odd ones' <= 0: sums push the offsets outwards
            int m = 50, n = 24, k = 300;
            byte[] x = bytes(r, m * k, 0, 127);
            byte[] wb = new byte[n * k];
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) wb[j * k + p] = (byte) (j % 2 == 0 ? r.nextInt(0, 128) : -r.nextInt(0, 128));
            }
            Int8Matrix w = Int8Matrix.pack(wb, 0, n, k);
            QuantMultiplier[] ms = new QuantMultiplier[n];
            int[] bias = new int[n];
            for (int j = 0; j < n; j++) {
                ms[j] = QuantMultiplier.of(mults[j % mults.length]);
                int near = big - r.nextInt(0, 1 << 16);
                bias[j] = big == 0 ? r.nextInt(-300, 300) : (j % 2 == 0 ? near : -near);
            }
            assertGemmTwinsWithAndWithoutRelu(r, m, x, w, ms, bias, 1, "offsets near " + big);
        }
    }

    @Test
    void reluClampsAtTheOutputZeroPoint() {
        QuantMultiplier[] ms = {QuantMultiplier.of(1.0 / 64)}; // exact, so the ties below are real ties
        Int8Requantization plain = Int8Requantization.of(ms, null, -20, false);
        Int8Requantization relu = Int8Requantization.of(ms, null, -20, true);
        assertEquals(-20 - 10, plain.requantize(-640, 0));
        assertEquals(-20, relu.requantize(-640, 0));
        assertEquals(-20 + 10, relu.requantize(640, 0));
        assertEquals(-20 + 3, relu.requantize(160, 0));  //  2.5 rounds up to 3
        assertEquals(-20 - 2, plain.requantize(-160, 0)); // -2.5 rounds up to -2
        assertEquals(-128, plain.requantize(-1 << 20, 0));
        assertEquals(127, relu.requantize(1 << 20, 0));
    }

    @Test
    void sameBitsForOneOrTwoThreads() {
        SplittableRandom r = new SplittableRandom(15);
        for (int[] s : new int[][] {{1, 257, 1100}, {3, 300, 784}, {64, 300, 784}, {9, 33, 2100}, {50, 40, 2100}, {1, 1100, 1000}, {3, 520, 700}}) {
            Layer l = layer(r, s[1], s[2], true, 1);
            byte[] x = bytes(r, s[0] * s[2], -128, 127);
            Parallel.setThreads(1);
            byte[] y1 = new byte[s[0] * s[1]];
            vector.gemm(s[0], x, 0, l.zx, l.w, l.rq, y1, 0);
            int[] i1 = new int[s[0] * s[1]];
            vector.gemmInt32(s[0], x, 0, l.zx, l.w, l.bias, i1, 0);
            Parallel.setThreads(2);
            byte[] y2 = new byte[s[0] * s[1]];
            vector.gemm(s[0], x, 0, l.zx, l.w, l.rq, y2, 0);
            int[] i2 = new int[s[0] * s[1]];
            vector.gemmInt32(s[0], x, 0, l.zx, l.w, l.bias, i2, 0);
            assertArrayEquals(y1, y2);
            assertArrayEquals(i1, i2);
        }
    }

    @Test
    void rejectsBadInput() {
        byte[] w = {1, 2, -128, 4};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Int8Matrix.pack(w, 0, 2, 2));
        assertTrue(e.getMessage().contains("-128"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Int8Matrix.pack(new byte[3], 0, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Int8Matrix.pack(new byte[4], 0, 0, 2));
        Int8Matrix ok = Int8Matrix.pack(new byte[4], 0, 2, 2);
        Int8Requantization rq = Int8Requantization.of(0.1f, new float[] {0.1f, 0.1f}, 0.5f, 0, null, false);
        for (Int8Kernels k : new Int8Kernels[] {scalar, vector}) {
            assertThrows(IllegalArgumentException.class, () -> k.gemm(1, new byte[2], 0, 128, ok, rq, new byte[2], 0));
            assertThrows(IllegalArgumentException.class, () -> k.gemm(1, new byte[1], 0, 0, ok, rq, new byte[2], 0));
            assertThrows(IllegalArgumentException.class, () -> k.gemm(1, new byte[2], 0, 0, ok, rq, new byte[1], 0));
            assertThrows(IllegalArgumentException.class, () -> k.gemmInt32(1, new byte[2], 0, 0, ok, new int[3], new int[2], 0));
            assertThrows(IllegalArgumentException.class,
                    () -> k.gemmFloat(1, new byte[2], 0, 0, ok, null, new float[1], false, new float[2], 0));
        }
        assertThrows(IllegalArgumentException.class, () -> Int8Requantization.of(0f, new float[] {0.1f}, 0.5f, 0, null, false));
        assertThrows(IllegalArgumentException.class, () -> Int8Requantization.of(0.1f, new float[] {Float.NaN}, 0.5f, 0, null, false));
        assertThrows(IllegalArgumentException.class, () -> Int8Requantization.of(0.1f, new float[] {0.1f}, -0.5f, 0, null, false));
        assertThrows(IllegalArgumentException.class, () -> Int8Requantization.of(0.1f, new float[] {0.1f}, 0.5f, 128, null, false));
        assertThrows(IllegalArgumentException.class, () -> Int8Requantization.of(0.1f, new float[] {0.1f}, 0.5f, 0, new int[2], false));
    }

    @Test
    void staysBitExactOnceCompiled() {
        SplittableRandom r = new SplittableRandom(16);
        Layer l = layer(r, 9, 100, true, 1);
        byte[] x = bytes(r, 48 * 100, -128, 127);
        for (int m : new int[] {1, 48}) {
            int[] expected = new int[m * 9], got = new int[m * 9];
            scalar.gemmInt32(m, x, 0, l.zx, l.w, l.bias, expected, 0);
            for (int t = 0; t < 6000; t++) {
                vector.gemmInt32(m, x, 0, l.zx, l.w, l.bias, got, 0);
                if (t % 500 == 0 || t == 5999) assertArrayEquals(expected, got, "call " + t);
            }
            byte[] expected8 = new byte[m * 9], got8 = new byte[m * 9];
            scalar.gemm(m, x, 0, l.zx, l.w, l.rq, expected8, 0);
            for (int t = 0; t < 6000; t++) {
                vector.gemm(m, x, 0, l.zx, l.w, l.rq, got8, 0);
                if (t % 500 == 0 || t == 5999) assertArrayEquals(expected8, got8, "call " + t);
            }
        }
    }

    @Test
    void widenedGemvIsExactOnCentredInt8InputsAndCloseOnAnyOther() {
        SplittableRandom r = new SplittableRandom(77);
        for (int n : new int[] {1, 3, 4, 5, 17, 72}) {
            for (int k : new int[] {1, 3, 8, 17, 33, 250, 512}) {
                byte[] w = new byte[n * k + 5];
                for (int i = 0; i < w.length; i++) w[i] = (byte) (r.nextInt(10) < 6 ? 0 : r.nextInt(-127, 128));
                float[] x = new float[k + 2], xf = new float[k + 2];
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextInt(-255, 256);   // q - z of int8 activations
                    xf[i] = (float) r.nextGaussian();
                }
                float[] a = new float[n + 1], b = new float[n + 1];
                scalar.gemvWidened(n, k, w, 5, x, 2, a, 1);
                vector.gemvWidened(n, k, w, 5, x, 2, b, 1);
                assertArrayEquals(a, b, n + "x" + k);
                for (int row = 0; row < n; row++) {
                    long exact = 0;
                    for (int p = 0; p < k; p++) exact += (long) w[5 + row * k + p] * (long) x[2 + p];
                    assertEquals((float) exact, a[1 + row], n + "x" + k + " row " + row);
                }
                scalar.gemvWidened(n, k, w, 5, xf, 2, a, 1);
                vector.gemvWidened(n, k, w, 5, xf, 2, b, 1);
                for (int row = 0; row <= n; row++) assertEquals(a[row], b[row], 1e-3f * (1 + Math.abs(a[row])), n + "x" + k + " floats");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> vector.gemvWidened(2, 3, new byte[5], 0, new float[3], 0, new float[2], 0));
        assertThrows(IllegalArgumentException.class, () -> scalar.gemvWidened(2, 3, new byte[6], 0, new float[2], 0, new float[2], 0));
        assertThrows(IllegalArgumentException.class, () -> vector.gemvWidened(2, 3, new byte[6], 0, new float[3], 0, new float[2], 1));
    }
}
