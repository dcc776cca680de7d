package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * What happens to an INT8 product's sum {@code sum_p x[i][p] * W[j][p]} once it is known (Jacob et
 * al. 2018): the input zero point's share {@code zx * rowSums[j]} taken off, then either the
 * requantization to int8 ({@link Int8Requantization}), the int32 sum plus bias, or the sum plus
 * bias scaled to float (with ReLU). One per call of {@link VectorInt8Kernels}, final, so C2
 * inlines it; one channel at a time ({@link #put}), eight in vector lanes ({@link #finish8}) or
 * a whole GEMM tile ({@link #finishWholeTile}), every way giving the twin's bits.
 */
final class Int8Epilogue {

    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final DoubleVector HALF_UP = DoubleVector.broadcast(D, 256.5);
    /** Added to a double below 2^51 in magnitude, leaves it rounded to an integer, in the low bits of the mantissa. */
    private static final double MAGIC = 0x1.8p52;
    /** {@link #requantizeFloats}'s lanes hold channels 0, 4, 1, 5, 2, 6, 3, 7: back in order. */
    private static final VectorShuffle<Integer> IN_ORDER = VectorShuffle.fromValues(I, 0, 2, 4, 6, 1, 3, 5, 7);

    enum Out { INT8, INT32, FLOAT }

    final Out out;
    final int n;
    final int yOff;
    private final int zx;
    private final int[] rowSums;
    private final Int8Requantization rq;
    private final int[] bias;
    private final float[] scales;
    private final boolean relu;
    private final byte[] y8;
    private final int[] y32;
    private final float[] yf;
    /** Per channel, {@code bias[j] - zx * rowSums[j]} (int32, wrapping as the twin's sums do): what a dot product gets added. */
    private final int[] offset;
    /**
     * For {@link #requantizeFloats}, or null where it would not give the twin's bits: {@link #offset}
     * as doubles, and the constants {@code 2^-(max shift + 1)} and {@code 1.5 * 2^52 + zOut}.
     */
    private final double[] offsetD;
    private final double nudge;
    private final double magicZero;

    /**
     * A layer's per-channel offsets for one weight matrix and input zero point. An INT8 layer's
     * are the same on every call, so its {@link Int8Requantization} keeps the last ones
     * ({@link Int8Requantization#offsets}): working them out on every call (two arrays of n and a
     * pass over them) cost a batch-1 call of a small layer several percent.
     */
    record Offsets(int[] rowSums, int zx, int cols, int[] offset, double[] offsetD) {

        static Offsets of(Int8Matrix w, int zx, int[] bias, Int8Requantization rq) {
            int n = w.rows;
            int[] offset = new int[n];
            long largest = 0;
            for (int j = 0; j < n; j++) {
                offset[j] = (bias == null ? 0 : bias[j]) - zx * w.rowSums[j];
                largest = Math.max(largest, Math.abs((long) offset[j]));
            }
            // exact float sums of one K chunk plus an offset that never leave int32: no wrapping to follow
            boolean fits = largest + (long) Math.min(w.cols, VectorInt8Kernels.K_CHUNK) * (1 << 14) <= Integer.MAX_VALUE;
            double[] offsetD = null;
            if (rq != null && rq.real != null && fits) {
                offsetD = new double[n];
                for (int j = 0; j < n; j++) offsetD[j] = offset[j];
            }
            return new Offsets(w.rowSums, zx, w.cols, offset, offsetD);
        }

        boolean isFor(Int8Matrix w, int zx) {
            return rowSums == w.rowSums && this.zx == zx && cols == w.cols;
        }
    }

    Int8Epilogue(Out out, Int8Matrix w, int zx, Int8Requantization rq, int[] bias, float[] scales, boolean relu,
                 byte[] y8, int[] y32, float[] yf, int yOff) {
        this.out = out;
        this.n = w.rows;
        this.zx = zx;
        this.rowSums = w.rowSums;
        this.rq = rq;
        this.bias = bias;
        this.scales = scales;
        this.relu = relu;
        this.y8 = y8;
        this.y32 = y32;
        this.yf = yf;
        this.yOff = yOff;
        Offsets o = out == Out.INT8 ? rq.offsets(w, zx) : Offsets.of(w, zx, bias, null);
        offset = o.offset;
        offsetD = o.offsetD;
        nudge = offsetD == null ? 0 : rq.nudge;
        magicZero = offsetD == null ? 0 : MAGIC + rq.outputZeroPoint;
    }

    /** The output of activation row i, channel j, from its sum. */
    void put(int i, int j, int dot) {
        int acc = dot - zx * rowSums[j];
        int at = yOff + i * n + j;
        switch (out) {
            case INT8 -> y8[at] = (byte) rq.requantize(acc, j);
            case INT32 -> y32[at] = acc + (bias == null ? 0 : bias[j]);
            case FLOAT -> {
                float v = (acc + (bias == null ? 0 : bias[j])) * scales[j];
                yf[at] = relu ? Math.max(v, 0f) : v;
            }
        }
    }

    /**
     * {@link #put} for channels {@code [j, j + 8)}, stored at {@code at}: their sums are the exact
     * float sums {@code cf[c..]} as ints (plus the earlier K chunks' {@code acc[c..]}, when not
     * null), or with {@code cf} null the int sums {@code acc[c..]}. Each branch loads its own
     * vectors: one passed to a method C2 did not inline would be boxed.
     */
    void finish8(float[] cf, int c, int[] acc, int j, int at) {
        switch (out) {
            case INT8 -> {
                if (offsetD != null && cf != null && acc == null) requantizeFloats(cf, c, j, at);
                else if (rq.real != null) requantizeDouble(cf, c, acc, j, at);
                else requantizeLong(cf, c, acc, j, at);
            }
            case INT32 -> sum8(cf, c, acc, j).intoArray(y32, at);
            case FLOAT -> {
                IntVector v = sum8(cf, c, acc, j);
                FloatVector f = ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, scales, j));
                (relu ? f.max(0f) : f).intoArray(yf, at);
            }
        }
    }

    /** {@code sum_p (x - zx) * W + bias} of 8 channels (see {@link #finish8}). */
    private IntVector sum8(float[] cf, int c, int[] acc, int j) {
        IntVector v = cf == null ? IntVector.fromArray(I, acc, c) : (IntVector) FloatVector.fromArray(F, cf, c).convert(VectorOperators.F2I, 0);
        if (cf != null && acc != null) v = v.add(IntVector.fromArray(I, acc, c));
        return v.add(IntVector.fromArray(I, offset, j));
    }

    /**
     * {@link Int8Requantization#requantize} of 8 channels whose shifts are at most
     * {@link Int8Requantization#DOUBLE_SHIFT} (and at least 31), in double lanes. The accumulator
     * is first clamped to the range outside which the output is clamped anyway
     * ({@link Int8Requantization#accLo}); inside it {@code |acc * M| < 257}, so
     * {@code acc * multiplier < 2^(shift + 9) <= 2^52} and {@code acc * M + 256.5} (a positive
     * multiple of {@code 2^-shift} below 1024) is a double: the FMA is exact and truncation is
     * floor. About half the instructions of the 64-bit integer form (AVX2 has no 64-bit
     * arithmetic shift or min/max).
     */
    private void requantizeDouble(float[] cf, int c, int[] acc, int j, int at) {
        // clamped as ints (Java's double min/max cost compares and blends on AVX2); + 1/2 rounds,
        // + 256 makes every value positive, where truncation is floor
        IntVector v = sum8(cf, c, acc, j).max(IntVector.fromArray(I, rq.accLo, j)).min(IntVector.fromArray(I, rq.accHi, j));
        DoubleVector d0 = ((DoubleVector) v.convert(VectorOperators.I2D, 0)).fma(DoubleVector.fromArray(D, rq.real, j), HALF_UP);
        DoubleVector d1 = ((DoubleVector) v.convert(VectorOperators.I2D, 1)).fma(DoubleVector.fromArray(D, rq.real, j + 4), HALF_UP);
        IntVector r = ((IntVector) d0.convertShape(VectorOperators.D2I, I, 0))
                .or((IntVector) d1.convertShape(VectorOperators.D2I, I, -1)).add(rq.outputZeroPoint - 256);
        r.convertShape(VectorOperators.I2B, B64, 0).reinterpretAsBytes().intoArray(y8, at);
    }

    /** Whether {@link #finishWholeTile} applies: int8 output whose requantization {@link #requantizeFloats} can do. */
    boolean finishesWholeTiles() {
        return offsetD != null;
    }

    /**
     * The int8 outputs of rows {@code [i, i + rows)} x channels {@code [j, j + NR)} from a whole
     * micro-kernel tile of one K chunk's exact sums ({@code tile[r * NR + c]}, see
     * {@link GemmMicroKernel}): one call per tile, its shape constant. The INT8 GEMM
     * 1024 x 1024 x 256 ran 1.07x faster than through the generic loop of
     * {@link VectorInt8Kernels} (side by side, both orders).
     */
    void finishWholeTile(float[] tile, int i, int rows, int j) {
        for (int r = 0, at = yOff + i * n + j; r < rows; r++, at += n) {
            for (int c = 0; c < GemmMicroKernel.NR; c += 8) requantizeFloats(tile, r * GemmMicroKernel.NR + c, j + c, at + c);
        }
    }

    /**
     * {@link Int8Requantization#requantize} of 8 channels straight from exact float sums (one K
     * chunk, no earlier int sums), without Java's float-to-int and double-to-int conversions,
     * whose NaN and overflow fix-ups cost AVX2 a dozen instructions each. The twin's
     * {@code floor((a * m + 2^(s-1)) / 2^s)} is {@code a * M + 2^-(s+1)} rounded to the nearest
     * integer (that sum is never halfway between two), and the rounding is what adding
     * {@code 1.5 * 2^52} does; adding {@code zOut} there too is exact. In doubles:
     * <ul>
     * <li>{@code a = sum + offset}: the float sum converts exactly, and with the offset stays in
     *     int32 (checked in the constructor), where the twin does not wrap either;
     * <li>{@code t = a * M + nudge}, one FMA, {@code nudge = 2^-(S+1)} for the largest shift S (so
     *     {@code 0 < nudge <= 2^-(s+1)} for every channel): exact while {@code |a * m| < 2^52};
     *     beyond, {@code |a * M| >= 2^(52-43) = 512} and the output is clamped to -128 or 127
     *     whichever way t rounds;
     * <li>the low 32 bits of {@code t + 1.5 * 2^52 + zOut} are the rounded integer; two vectors
     *     of four are merged by a shift and an OR (interleaved, put in order by one permutation),
     *     clamped as ints.
     * </ul>
     */
    private void requantizeFloats(float[] cf, int c, int j, int at) {
        DoubleVector nudged = DoubleVector.broadcast(D, nudge), magic = DoubleVector.broadcast(D, magicZero);
        LongVector lo = ((DoubleVector) FloatVector.fromArray(F128, cf, c).convertShape(VectorOperators.F2D, D, 0))
                .add(DoubleVector.fromArray(D, offsetD, j)).fma(DoubleVector.fromArray(D, rq.real, j), nudged)
                .add(magic).reinterpretAsLongs();
        LongVector hi = ((DoubleVector) FloatVector.fromArray(F128, cf, c + 4).convertShape(VectorOperators.F2D, D, 0))
                .add(DoubleVector.fromArray(D, offsetD, j + 4)).fma(DoubleVector.fromArray(D, rq.real, j + 4), nudged)
                .add(magic).reinterpretAsLongs();
        IntVector v = lo.and(0xFFFFFFFFL).or(hi.lanewise(VectorOperators.LSHL, 32)).reinterpretAsInts();
        v.rearrange(IN_ORDER).max(rq.min).min(rq.max)
                .convertShape(VectorOperators.I2B, B64, 0).reinterpretAsBytes().intoArray(y8, at);
    }

    /** {@link Int8Requantization#requantize} of 8 channels with the same 64-bit integer operations. */
    private void requantizeLong(float[] cf, int c, int[] acc, int j, int at) {
        IntVector v = sum8(cf, c, acc, j);
        IntVector mult = IntVector.fromArray(I, rq.multiplier, j);
        long lo = rq.min - rq.outputZeroPoint, hi = rq.max - rq.outputZeroPoint;
        // int x int products in 64-bit lanes: C2 can use vpmuldq, AVX2 has no 64-bit multiply
        LongVector r0 = ((LongVector) v.convert(VectorOperators.I2L, 0)).mul(mult.convert(VectorOperators.I2L, 0))
                .add(LongVector.fromArray(L, rq.roundTerm, j))
                .lanewise(VectorOperators.ASHR, LongVector.fromArray(L, rq.shift64, j)).max(lo).min(hi);
        LongVector r1 = ((LongVector) v.convert(VectorOperators.I2L, 1)).mul(mult.convert(VectorOperators.I2L, 1))
                .add(LongVector.fromArray(L, rq.roundTerm, j + 4))
                .lanewise(VectorOperators.ASHR, LongVector.fromArray(L, rq.shift64, j + 4)).max(lo).min(hi);
        IntVector r = ((IntVector) r0.convertShape(VectorOperators.L2I, I, 0))
                .or((IntVector) r1.convertShape(VectorOperators.L2I, I, -1)).add(rq.outputZeroPoint);
        r.convertShape(VectorOperators.I2B, B64, 0).reinterpretAsBytes().intoArray(y8, at);
    }
}
