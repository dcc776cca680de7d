package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The quantization primitives: rounding, saturation, twins, parameter checks, the multiplier. */
class QuantizationTest {

    private final QuantKernels scalar = new ScalarQuantKernels();
    private final QuantKernels vector = new VectorQuantKernels();

    @Test
    void roundsHalfToEven() {
        assertEquals(0, Quantization.quantize(0.5f, 1f, 0, QuantRange.INT8));
        assertEquals(2, Quantization.quantize(1.5f, 1f, 0, QuantRange.INT8));
        assertEquals(2, Quantization.quantize(2.5f, 1f, 0, QuantRange.INT8));
        assertEquals(0, Quantization.quantize(-0.5f, 1f, 0, QuantRange.INT8));
        assertEquals(-2, Quantization.quantize(-1.5f, 1f, 0, QuantRange.INT8));
        assertEquals(-2, Quantization.quantize(-2.5f, 1f, 0, QuantRange.INT8));
        assertEquals(-3, Quantization.quantize(-2.5000002f, 1f, 0, QuantRange.INT8));
        // and the Vector API kernel, which has no rint of its own, agrees lane by lane
        float[] x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, -3.5f, 0.49999997f, 126.5f, -127.5f, 4.5f, 5.5f, -6.5f, 7.5f, 8.5f};
        byte[] expected = {0, 2, 2, 0, -2, -2, 4, -4, 0, 126, -128, 4, 6, -6, 8, 8};
        byte[] s = new byte[x.length], v = new byte[x.length];
        scalar.quantize(x, 0, x.length, 1f, 0, QuantRange.INT8, s, 0);
        vector.quantize(x, 0, x.length, 1f, 0, QuantRange.INT8, v, 0);
        assertArrayEquals(expected, s);
        assertArrayEquals(expected, v);
    }

    @Test
    void saturatesToEachRange() {
        float[] x = {1e9f, -1e9f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 300f, -300f, 8.49f,
                     -8.51f, 7.5f, 1e30f, -1e30f, 4194305f, -4194305f, 0f, -0f, 127.5f};
        for (QuantRange r : QuantRange.values()) {
            for (int zp : new int[] {r.min(), 0 < r.min() ? r.min() : 0, r.max()}) {
                byte[] s = new byte[x.length], v = new byte[x.length];
                scalar.quantize(x, 0, x.length, 1f, zp, r, s, 0);
                vector.quantize(x, 0, x.length, 1f, zp, r, v, 0);
                assertArrayEquals(s, v, r + " zp " + zp);
                assertEquals(r.max(), Quantization.load(s[0], r));
                assertEquals(r.min(), Quantization.load(s[1], r));
                assertEquals(r.max(), Quantization.load(s[2], r));
                assertEquals(r.min(), Quantization.load(s[3], r));
                assertEquals(zp, Quantization.load(s[4], r), "NaN quantizes to the zero point");
            }
        }
    }

    @Test
    void vectorQuantizeAndDequantizeAreBitExact() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (QuantRange r : QuantRange.values()) {
            for (int n : new int[] {1, 3, 7, 8, 17, 33, 257}) {
                for (int trial = 0; trial < 5; trial++) {
                    int off = rnd.nextInt(5);
                    float[] x = new float[off + n];
                    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 3f;
                    float scale = (float) rnd.nextDouble(0.001, 0.2);
                    int zp = rnd.nextInt(r.min(), r.max() + 1);
                    byte[] s = new byte[off + n + 2], v = new byte[off + n + 2];
                    scalar.quantize(x, off, n, scale, zp, r, s, 2);
                    vector.quantize(x, off, n, scale, zp, r, v, 2);
                    assertArrayEquals(s, v, r + " n " + n);
                    float[] ds = new float[n + 1], dv = new float[n + 1];
                    scalar.dequantize(s, 2, n, scale, zp, r, ds, 1);
                    vector.dequantize(s, 2, n, scale, zp, r, dv, 1);
                    assertArrayEquals(ds, dv);
                    assertEquals(scalar.absMax(x, off, n), vector.absMax(x, off, n));
                    for (int i = 0; i < n; i++) {
                        float xi = x[off + i];
                        float lo = (r.min() - zp) * scale, hi = (r.max() - zp) * scale;
                        if (xi >= lo && xi <= hi) assertEquals(xi, ds[1 + i], scale * 0.5f + 1e-6f, "round trip");
                    }
                }
            }
        }
    }

    @Test
    void requantizeIsTheMultiplyAddReluAndQuantizeItFuses() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int n : new int[] {1, 3, 8, 17, 33, 257, 784}) {
            for (boolean relu : new boolean[] {false, true}) {
                int off = rnd.nextInt(4);
                float[] sums = new float[off + n];
                for (int i = 0; i < sums.length; i++) sums[i] = rnd.nextInt(-40_000, 40_000);   // exact integers, as the products give
                float multiplier = (float) rnd.nextDouble(1e-5, 1e-3), bias = (float) rnd.nextGaussian(), scale = (float) rnd.nextDouble(0.01, 0.1);
                int zp = rnd.nextInt(-128, 128);
                // the unfused steps, one element at a time
                byte[] want = new byte[n + 3];
                for (int i = 0; i < n; i++) {
                    float r = Math.fma(multiplier, sums[off + i], bias);
                    want[3 + i] = (byte) Quantization.quantize(relu ? Math.max(r, 0f) : r, scale, zp, QuantRange.INT8);
                }
                for (QuantKernels k : new QuantKernels[] {scalar, vector}) {
                    byte[] got = new byte[n + 3];
                    k.requantize(sums, off, n, multiplier, bias, relu, scale, zp, QuantRange.INT8, got, 3);
                    assertArrayEquals(want, got, k.getClass().getSimpleName() + " n " + n + " relu " + relu);
                }
            }
        }
    }

    @Test
    void perChannelAndPerGroupRoundTrip() {
        SplittableRandom rnd = new SplittableRandom(2);
        int rows = 5, cols = 70;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        QuantParams ch = Quantization.symmetricPerChannel(w, 0, rows, cols, QuantRange.INT8_NARROW);
        QuantParams gr = Quantization.symmetricPerGroup(w, 0, rows, cols, 32, QuantRange.INT4);
        assertEquals(96, gr.paddedCols(cols));
        assertEquals(rows * 3, gr.scales().length);
        for (QuantParams p : new QuantParams[] {ch, gr}) {
            int pc = p.paddedCols(cols);
            byte[] q = new byte[rows * pc];
            Quantization.quantize(w, 0, rows, cols, p, q, 0);
            float[] back = new float[w.length];
            Quantization.dequantize(q, 0, rows, cols, p, back, 0);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(w[r * cols + c], back[r * cols + c], p.scale(r, c, pc) * 0.5f + 1e-6f);
                }
                for (int c = cols; c < pc; c++) assertEquals(p.zeroPoint(r, c, pc), q[r * pc + c], "padding holds the zero point");
            }
        }
    }

    @Test
    void affineParametersRepresentZeroExactly() {
        for (float[] mm : new float[][] {{-1f, 3f}, {0.5f, 2f}, {-4f, -1f}, {0f, 0f}, {-0.001f, 1000f}}) {
            for (QuantRange r : new QuantRange[] {QuantRange.INT8, QuantRange.UINT8, QuantRange.INT4}) {
                QuantParams p = Quantization.affine(r, mm[0], mm[1]);
                float s = p.scales()[0];
                int z = p.zeroPoints()[0];
                assertEquals(0f, Quantization.dequantize(Quantization.quantize(0f, s, z, r), s, z));
                assertTrue(Quantization.dequantize(r.min(), s, z) <= Math.min(mm[0], 0f) + s);
                assertTrue(Quantization.dequantize(r.max(), s, z) >= Math.max(mm[1], 0f) - s);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Quantization.affine(QuantRange.INT8, Float.NaN, 1f));
        assertThrows(IllegalArgumentException.class, () -> Quantization.affine(QuantRange.INT8, 2f, 1f));
    }

    @Test
    void rejectsBadScalesZeroPointsAndGroups() {
        for (float bad : new float[] {0f, -0f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> QuantParams.perTensor(QuantRange.INT8, bad, 0));
            assertTrue(e.getMessage().contains("scale"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> QuantParams.perChannel(QuantRange.INT8, new float[] {1f, bad}, new int[2]));
        }
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.INT8, 1f, 128));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.INT8, 1f, -129));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.UINT8, 1f, -1));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.UINT8, 1f, 256));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.INT4, 1f, 8));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantRange.INT8_NARROW, 1f, -128));
        IllegalArgumentException g = assertThrows(IllegalArgumentException.class, () -> Quantization.checkGroupSize(48, 128));
        assertTrue(g.getMessage().contains("48") && g.getMessage().contains("128"), g.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Quantization.checkGroupSize(0, 128));
    }

    @Test
    void rejectsZeroScaleInPerGroupArray() {
        // (the array above holds zeros, so building it must already fail)
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perGroup(QuantRange.INT4, 32, new float[4], new int[4]));
    }

    @Test
    void groupParamsCheckTheirShape() {
        float[] ones = {1f, 1f, 1f, 1f, 1f, 1f};
        QuantParams p = QuantParams.perGroup(QuantRange.INT4, 32, ones, new int[6]);
        p.checkShape(2, 96);
        assertThrows(IllegalArgumentException.class, () -> p.checkShape(3, 96));
        assertThrows(IllegalArgumentException.class, () -> p.checkShape(2, 100));
    }

    @Test
    void multiplierIsNormalisedAndRoundsHalfUp() {
        QuantMultiplier half = QuantMultiplier.of(0.5);
        assertEquals(1 << 30, half.multiplier());
        assertEquals(31, half.shift());
        assertEquals(2, half.apply(3));    //  1.5 -> 2
        assertEquals(-1, half.apply(-3));  // -1.5 -> -1 (half towards +infinity)
        assertEquals(-2, half.apply(-5));  // -2.5 -> -2
        assertEquals(3, half.apply(5));    //  2.5 -> 3
        QuantMultiplier one = QuantMultiplier.of(1.0);
        assertEquals(12345, one.apply(12345));
        assertEquals(Integer.MIN_VALUE, one.apply(Integer.MIN_VALUE));
        // just below a power of two: the mantissa rounds up to 2^31 and is renormalised
        QuantMultiplier edge = QuantMultiplier.of(Math.nextDown(1.0));
        assertEquals(1 << 30, edge.multiplier());
        assertEquals(30, edge.shift());
        QuantMultiplier tiny = QuantMultiplier.of(1e-12);
        assertEquals(62, tiny.shift());
        assertEquals(1e-12, tiny.value(), 1e-12 * 1e-6);
        assertEquals(0, QuantMultiplier.of(1e-30).apply(Integer.MAX_VALUE));
        QuantMultiplier big = QuantMultiplier.of(1 << 29);
        assertEquals(-(1L << 60), big.apply(Integer.MIN_VALUE));
        assertEquals((1L << 60) - (1L << 29), big.apply(Integer.MAX_VALUE));
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY, 0x1p30}) {
            assertThrows(IllegalArgumentException.class, () -> QuantMultiplier.of(bad));
        }
    }

    @Test
    void multiplierMatchesExactRounding() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int t = 0; t < 20000; t++) {
            double real = Math.scalb(rnd.nextDouble(0.5, 1.0), rnd.nextInt(-40, 20));
            QuantMultiplier m = QuantMultiplier.of(real);
            assertEquals(real, m.value(), Math.max(real * 1e-9, 0x1p-63)); // the shift stops at 62
            int acc = rnd.nextInt();
            // floor(acc * multiplier / 2^shift + 1/2), in exact integers
            BigInteger num = BigInteger.valueOf(acc).multiply(BigInteger.valueOf(m.multiplier())).shiftLeft(1)
                    .add(BigInteger.ONE.shiftLeft(m.shift()));
            long expected = num.shiftRight(m.shift() + 1).longValueExact();
            assertEquals(expected, m.apply(acc), "acc " + acc + " " + m);
        }
    }

    @Test
    void stayBitExactOnceCompiled() {
        // enough calls for C2 to compile the vector kernel, whose NaN, rounding and saturation
        // must not change with the compiler
        SplittableRandom rnd = new SplittableRandom(4);
        float[] x = new float[67];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 40f;
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.5f, 1.5f, -0.5f, -2.5f, 1e20f, -0f};
        System.arraycopy(special, 0, x, 3, special.length);
        byte[] s = new byte[x.length], v = new byte[x.length];
        float[] ds = new float[x.length], dv = new float[x.length];
        scalar.quantize(x, 0, x.length, 0.7f, -3, QuantRange.INT8, s, 0);
        scalar.dequantize(s, 0, x.length, 0.7f, -3, QuantRange.INT8, ds, 0);
        for (int t = 0; t < 30000; t++) {
            vector.quantize(x, 0, x.length, 0.7f, -3, QuantRange.INT8, v, 0);
            vector.dequantize(v, 0, x.length, 0.7f, -3, QuantRange.INT8, dv, 0);
            if (t % 1000 == 0 || t == 29999) {
                assertArrayEquals(s, v, "call " + t);
                assertArrayEquals(ds, dv, "call " + t);
            }
        }
    }
}
