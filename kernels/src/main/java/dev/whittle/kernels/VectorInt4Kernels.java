package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int4Kernels} on the Vector API, 256 bits at a time.
 *
 * <p><b>Unpacking.</b> AVX2 has no byte shifts and the Vector API's widening conversions are
 * slow there, so 32 packed bytes (64 weights) are reinterpreted as wider lanes and each nibble is
 * sign-extended in place by two shifts (left to put its sign bit on top, arithmetic right):
 *
 * <pre>
 *   W4A8, 16 short lanes:  lane j = bytes 2j, 2j+1:  bits 15..12 | 11..8  | 7..4   | 3..0
 *                                                        q[4j+3] | q[4j+2]| q[4j+1]| q[4j]
 *     n_r = (s << (12 - 4r)) >> 12      lane j of n_r is weight 4j + r of the 64
 *   W4 FP32, 8 int lanes:   lane j = bytes 4j..4j+3 = weights 8j .. 8j+7
 *     n_r = (v << (28 - 4r)) >> 28      lane j of n_r is weight 8j + r, converted to float in place
 * </pre>
 *
 * No shuffles, no widening. The activations are permuted once per call into the matching order
 * ({@code xp[64b + 16r + j] = x[64b + 4j + r]}, resp. {@code xf[64b + 8r + j] = x[64b + 8j + r]}),
 * so the products line up. With a group of 32 one load spans two groups: the first half of the
 * lanes holds the first group.
 *
 * <p><b>W4A8.</b> The four products per short lane stay in 16 bits ({@code |w*q| <= 8 * 127}, and
 * a group of 128 puts eight in a lane: at most 8128); at the end of each group the lanes are
 * widened by shifts and reduced to one exact int. <b>W4 FP32</b> multiplies the converted nibbles
 * with FMA and scales each load's sum by its group scale.
 *
 * <p>Measured, GEMV 4096 x 4096 with groups of 64, one thread, thread-CPU-time medians on a
 * shared Zen 3: W4 FP32 1954 us, W4A8 2004 us, INT8 GEMV 1183 us in the same process, OpenBLAS
 * FP32 SGEMV 3011 and 2810 us around it (1.5x). Unpacking costs more instructions per weight than
 * INT8's byte split, so halving the bytes does not pay while the INT8 kernel is not yet waiting
 * on memory. In an earlier run, keeping W4A8's group sums in float lanes instead of reducing
 * them (not bit-exact against a plain twin) took 1691 us against 2661 us reduced.
 *
 * <p>Many activation rows ({@link #GEMM_ROWS} or more) in {@link #gemm} dequantize the weights
 * block by block and use the FP32 GEMM instead, which reuses each weight across rows.
 */
final class VectorInt4Kernels implements Int4Kernels {

    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int SL = S.length();
    private static final int FL = F.length();
    /** Bytes per load: 64 weights. */
    private static final int LOAD = Int4Matrix.BLOCK / 2;
    private static final VectorMask<Integer> FIRST_HALF = VectorMask.fromLong(I, 0x0F);
    private static final VectorMask<Integer> SECOND_HALF = VectorMask.fromLong(I, 0xF0);
    private static final VectorMask<Float> SECOND_HALF_F = VectorMask.fromLong(F, 0xF0);
    private static final int IL = I.length();

    /** From this many activation rows on, {@link #gemm} goes through the FP32 GEMM (not yet measured: the INT8 crossover is 48). */
    static final int GEMM_ROWS = 8;
    private static final long PARALLEL_WORK = 1L << 17;
    private static final int FLOAT_BLOCK = 1 << 20;

    private static final QuantKernels QUANT = new VectorQuantKernels();

    private static final class Workspace {
        short[] xp = new short[0];
        float[] xf = new float[0];
        float[] sx = new float[0];
        byte[] q = new byte[0];
        float[] wf = new float[0];
        float[] cf = new float[0];
        float[] bias = new float[0];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    // ---- W4 with FP32 activations ----------------------------------------------------------------

    @Override
    public void gemm(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        if (m == 0) return;
        if (m >= GEMM_ROWS) {
            gemmViaFloat(m, x, xOff, w, bias, relu, y, yOff);
            return;
        }
        int n = w.rows, k = w.cols, span = w.stride * 2;
        Workspace ws = WORKSPACE.get();
        if (ws.xf.length < m * span) ws.xf = new float[m * span];
        float[] xf = ws.xf;
        for (int i = 0; i < m; i++) permute(x, xOff + i * k, k, xf, i * span, span);
        Parallel.RangeTask rows = (from, to) -> {
            for (int j = from; j < to; j++) {
                for (int i = 0; i < m; i++) {
                    y[yOff + i * n + j] = Int4Kernels.finish(rowFloat(w, j, xf, i * span), bias, j, relu);
                }
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forRange(n, 1, rows);
    }

    /** {@code xf[at + 64b + 8r + j] = x[64b + 8j + r]} (the order of {@link #rowFloat}'s lanes), zero beyond k. */
    private static void permute(float[] x, int xo, int k, float[] xf, int at, int span) {
        for (int b = 0; b < span; b += Int4Matrix.BLOCK) {
            for (int r = 0; r < 8; r++) {
                for (int j = 0; j < IL; j++) {
                    int p = b + 8 * j + r;
                    xf[at + b + IL * r + j] = p < k ? x[xo + p] : 0f;
                }
            }
        }
    }

    /**
     * One output of the W4 FP32 product. The 32 bytes of a load are read as 8 ints, each holding
     * 8 consecutive weights; two 32-bit shifts sign-extend nibble r of every lane (weight
     * {@code 8j + r} in lane j), which converts to float in place (no cross-lane widening, slow on
     * AVX2). Four short FMA chains per load keep the FMA latency hidden; a group's sum is scaled
     * once per load (with groups of 32, lanes 0-3 and 4-7 belong to two groups and get their own
     * scale). Written out by hand, here and in {@link #rowA8}: a helper returning a vector is not
     * always inlined by C2, and a vector that crosses a real call is boxed.
     */
    private static float rowFloat(Int4Matrix w, int j, float[] xf, int xo) {
        byte[] d = w.data;
        int o = j * w.stride, groups = w.groups, so = j * groups;
        int loads = Math.max(1, w.groupSize / Int4Matrix.BLOCK);
        float[] sc = w.scales;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = w.stride / LOAD; b < blocks; b++) {
            IntVector v = ByteVector.fromArray(B, d, o + b * LOAD).reinterpretAsInts();
            int xb = xo + b * Int4Matrix.BLOCK;
            FloatVector h0 = nib(v, 28).mul(FloatVector.fromArray(F, xf, xb));
            FloatVector h1 = nib(v, 24).mul(FloatVector.fromArray(F, xf, xb + IL));
            FloatVector h2 = nib(v, 20).mul(FloatVector.fromArray(F, xf, xb + 2 * IL));
            FloatVector h3 = nib(v, 16).mul(FloatVector.fromArray(F, xf, xb + 3 * IL));
            h0 = nib(v, 12).fma(FloatVector.fromArray(F, xf, xb + 4 * IL), h0);
            h1 = nib(v, 8).fma(FloatVector.fromArray(F, xf, xb + 5 * IL), h1);
            h2 = nib(v, 4).fma(FloatVector.fromArray(F, xf, xb + 6 * IL), h2);
            h3 = ((FloatVector) v.lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, xf, xb + 7 * IL), h3);
            FloatVector h = h0.add(h1).add(h2.add(h3));
            FloatVector scale;
            if (w.groupSize == 32) {
                int g = 2 * b;
                scale = FloatVector.broadcast(F, sc[so + g]);
                if (g + 1 < groups) scale = scale.blend(sc[so + g + 1], SECOND_HALF_F);
            } else {
                scale = FloatVector.broadcast(F, sc[so + b / loads]);
            }
            acc = h.fma(scale, acc);
        }
        return sumLanes(acc);
    }

    /** {@code (v << left) >> 28} as floats: one sign-extended nibble per lane. Small enough that C2 always inlines it. */
    private static FloatVector nib(IntVector v, int left) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, left).lanewise(VectorOperators.ASHR, 28)
                .convert(VectorOperators.I2F, 0);
    }

    /**
     * The lanes added in a fixed order: {@code reduceLanes(ADD)} on floats adds in one order when
     * interpreted and another once C2 compiles it, which would make results depend on the JIT.
     */
    private static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < FL; i++) s += v.lane(i);
        return s;
    }

    /** Many rows: dequantize weight rows block by block and run the FP32 GEMM with bias and ReLU. */
    private static void gemmViaFloat(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu,
                                     float[] y, int yOff) {
        int n = w.rows, k = w.cols;
        int nb = Math.min(n, Math.max(16, Math.min(FLOAT_BLOCK / k, FLOAT_BLOCK / m)));
        Workspace ws = WORKSPACE.get();
        if (ws.wf.length < nb * k) ws.wf = new float[nb * k];
        float[] wf = ws.wf;
        FloatKernels fp32 = Kernels.fp32();
        if (nb == n) {
            dequantize(w, 0, n, wf);
            fp32.gemmNTBias(m, n, k, x, xOff, wf, 0, bias, y, yOff, relu);
            return;
        }
        if (ws.cf.length < m * nb) ws.cf = new float[m * nb];
        if (ws.bias.length < nb) ws.bias = new float[nb];
        float[] cf = ws.cf, bb = ws.bias;
        for (int j0 = 0; j0 < n; j0 += nb) {
            int jn = Math.min(nb, n - j0);
            dequantize(w, j0, jn, wf);
            float[] blockBias = null;
            if (bias != null) {
                blockBias = jn == bb.length ? bb : new float[jn];
                System.arraycopy(bias, j0, blockBias, 0, jn);
            }
            fp32.gemmNTBias(m, jn, k, x, xOff, wf, 0, blockBias, cf, 0, relu);
            for (int i = 0; i < m; i++) System.arraycopy(cf, i * jn, y, yOff + i * n + j0, jn);
        }
    }

    /** {@code wf[r][p] = W[j0 + r][p] * scale} for {@code rows} rows, K wide. */
    private static void dequantize(Int4Matrix w, int j0, int rows, float[] wf) {
        int k = w.cols, gs = w.groupSize;
        for (int r = 0; r < rows; r++) {
            int j = j0 + r;
            for (int p = 0; p < k; p++) wf[r * k + p] = w.get(j, p) * w.scale(j, p / gs);
        }
    }

    // ---- W4A8 --------------------------------------------------------------------------------------

    @Override
    public void gemmA8(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        if (m == 0) return;
        int n = w.rows, k = w.cols, span = w.stride * 2, groups = w.groups;
        Workspace ws = WORKSPACE.get();
        if (ws.xp.length < m * span) ws.xp = new short[m * span];
        if (ws.sx.length < m * groups) ws.sx = new float[m * groups];
        if (ws.q.length < span) ws.q = new byte[span];
        short[] xp = ws.xp;
        float[] sx = ws.sx;
        byte[] q = ws.q;
        for (int i = 0; i < m; i++) {
            ScalarInt4Kernels.quantizeGroups(QUANT, x, xOff + i * k, k, w.groupSize, q, 0, sx, i * groups);
            java.util.Arrays.fill(q, w.paddedCols, span, (byte) 0);
            for (int b = 0; b < span; b += Int4Matrix.BLOCK) {
                for (int r = 0; r < 4; r++) {
                    for (int j = 0; j < SL; j++) xp[i * span + b + SL * r + j] = q[b + 4 * j + r];
                }
            }
        }
        Parallel.RangeTask rows = (from, to) -> {
            for (int j = from; j < to; j++) {
                for (int i = 0; i < m; i++) {
                    y[yOff + i * n + j] = Int4Kernels.finish(rowA8(w, j, xp, i * span, sx, i * groups), bias, j, relu);
                }
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forRange(n, 1, rows);
    }

    /**
     * One output of the W4A8 product. Per load of 64 weights: seven shifts unpack four short
     * vectors, multiplied by the activations as shorts and summed in 16 bits; at the end of each
     * group its lanes are widened and reduced to one exact int (with groups of 32, lanes 0-7 and
     * 8-15 are the two groups), then scaled in float, group after group as the twin does.
     */
    private static float rowA8(Int4Matrix w, int j, short[] xp, int xo, float[] sx, int sxo) {
        byte[] d = w.data;
        int o = j * w.stride, groups = w.groups, so = j * groups;
        int loads = Math.max(1, w.groupSize / Int4Matrix.BLOCK);
        float[] sc = w.scales;
        float acc = 0f;
        ShortVector sum = ShortVector.zero(S);
        for (int b = 0, blocks = w.stride / LOAD; b < blocks; b++) {
            ShortVector s = ByteVector.fromArray(B, d, o + b * LOAD).reinterpretAsShorts();
            int xb = xo + b * Int4Matrix.BLOCK;
            ShortVector p01 = s.lanewise(VectorOperators.LSHL, 12).lanewise(VectorOperators.ASHR, 12)
                    .mul(ShortVector.fromArray(S, xp, xb))
                    .add(s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 12)
                            .mul(ShortVector.fromArray(S, xp, xb + SL)));
            ShortVector p23 = s.lanewise(VectorOperators.LSHL, 4).lanewise(VectorOperators.ASHR, 12)
                    .mul(ShortVector.fromArray(S, xp, xb + 2 * SL))
                    .add(s.lanewise(VectorOperators.ASHR, 12).mul(ShortVector.fromArray(S, xp, xb + 3 * SL)));
            sum = sum.add(p01.add(p23));
            if (w.groupSize == 32 || (b + 1) % loads == 0) {
                // widen by shifts (the S2I conversion is slow on AVX2): int lane i = shorts 2i, 2i+1
                IntVector v = sum.reinterpretAsInts();
                IntVector pairs = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                        .add(v.lanewise(VectorOperators.ASHR, 16));
                if (w.groupSize == 32) { // int lanes 0-3 are the first group, 4-7 the second
                    int g = 2 * b;
                    acc += pairs.reduceLanes(VectorOperators.ADD, FIRST_HALF) * (sc[so + g] * sx[sxo + g]);
                    if (g + 1 < groups) {
                        acc += pairs.reduceLanes(VectorOperators.ADD, SECOND_HALF) * (sc[so + g + 1] * sx[sxo + g + 1]);
                    }
                } else {
                    int g = b / loads;
                    acc += pairs.reduceLanes(VectorOperators.ADD) * (sc[so + g] * sx[sxo + g]);
                }
                sum = ShortVector.zero(S);
            }
        }
        return acc;
    }
}
