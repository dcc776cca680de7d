package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link QuantKernels} on the Vector API, bit for bit the same as {@link ScalarQuantKernels}.
 */
final class VectorQuantKernels implements QuantKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** A quarter of the float width: one byte per float lane. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    private static final int L = F.length();

    /**
     * The Vector API has no round-to-nearest. Adding and subtracting 1.5 * 2^23 rounds any
     * |v| <= 2^22 to an integer, half to even, because in [2^23, 2^24) the float spacing is
     * exactly 1 and the addition rounds to nearest even. Larger |v| is first clamped to 2^22:
     * it saturates to the range's end either way, so the result is unchanged.
     */
    private static final float RINT_MAGIC = 0x1.8p23f;
    private static final float RINT_LIMIT = 0x1p22f;

    @Override
    public void quantize(float[] x, int xOff, int n, float scale, int zeroPoint, QuantRange range, byte[] q, int qOff) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) store(FloatVector.fromArray(F, x, xOff + i), scale, zeroPoint, range, q, qOff + i);
        for (; i < n; i++) q[qOff + i] = (byte) Quantization.quantize(x[xOff + i], scale, zeroPoint, range);
    }

    @Override
    public void requantize(float[] sums, int sOff, int n, float multiplier, float bias, boolean relu, float scale, int zeroPoint,
                           QuantRange range, byte[] q, int qOff) {
        FloatVector m = FloatVector.broadcast(F, multiplier), b = FloatVector.broadcast(F, bias);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector r = FloatVector.fromArray(F, sums, sOff + i).fma(m, b);
            store(relu ? r.max(0f) : r, scale, zeroPoint, range, q, qOff + i);
        }
        for (; i < n; i++) {
            float r = Math.fma(multiplier, sums[sOff + i], bias);
            q[qOff + i] = (byte) Quantization.quantize(relu ? Math.max(r, 0f) : r, scale, zeroPoint, range);
        }
    }

    /** {@code quantize} of one vector of floats into {@code L} bytes at {@code q[at]}. */
    private static void store(FloatVector x, float scale, int zeroPoint, QuantRange range, byte[] q, int at) {
        // min/max keep a NaN a NaN, and F2I turns it into 0, as the scalar cast does
        FloatVector v = x.div(scale).max(-RINT_LIMIT).min(RINT_LIMIT);
        v = v.add(RINT_MAGIC).sub(RINT_MAGIC);
        IntVector r = ((IntVector) v.convert(VectorOperators.F2I, 0))
                .add(zeroPoint).max(range.min()).min(range.max());
        r.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes().intoArray(q, at);
    }

    @Override
    public void dequantize(byte[] q, int qOff, int n, float scale, int zeroPoint, QuantRange range, float[] x, int xOff) {
        boolean unsigned = range == QuantRange.UINT8;
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            IntVector v = (IntVector) ByteVector.fromArray(B, q, qOff + i).convertShape(VectorOperators.B2I, I, 0);
            if (unsigned) v = v.and(0xFF);
            ((FloatVector) v.sub(zeroPoint).convert(VectorOperators.I2F, 0)).mul(scale).intoArray(x, xOff + i);
        }
        for (; i < n; i++) x[xOff + i] = Quantization.dequantize(Quantization.load(q[qOff + i], range), scale, zeroPoint);
    }

    @Override
    public float absMax(float[] x, int xOff, int n) {
        FloatVector m = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) m = m.max(FloatVector.fromArray(F, x, xOff + i).abs());
        float r = m.reduceLanes(VectorOperators.MAX); // max is exact: its order cannot matter
        for (; i < n; i++) r = Math.max(r, Math.abs(x[xOff + i]));
        return r;
    }
}
