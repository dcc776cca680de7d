package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 kernels on the Vector API. Every output element is produced by the same sequence of
 * operations wherever it sits (full tile, edge tile or masked column tail), which is what makes
 * results independent of how the work is split across threads. The matrix products live in
 * {@link Gemm} (packed, cache-blocked, register-tiled).
 */
final class VectorFloatKernels implements FloatKernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    /** Lanes 0, 2, .. of a vector, twice: with {@link #UPPER} the even lanes of two vectors in one. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i % L);
    /** Lanes 1, 3, .., twice. */
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(S, i -> (2 * i + 1) % L);
    /** The upper half of the lanes. */
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(S, -1L << (L / 2));
    /** {@code 2 * lane}: the offsets of the windows' first columns in a run of 2L pixels. */
    private static final IntVector TWICE = IntVector.zero(I).addIndex(2);

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        // two accumulators hide the FMA latency; their order of combination is fixed
        FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
        int i = 0;
        for (int bound = n - 2 * L; i <= bound; i += 2 * L) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), acc1);
        }
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
        }
        float s = sumLanes(acc0.add(acc1));
        for (; i < n; i++) s = Math.fma(a[aOff + i], b[bOff + i], s);
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
    }

    // The three layouts backprop needs are one packed product (Gemm) with different strides:
    // element (i, p) of A at i*ars + p*acs, element (p, j) of B at p*brs + j*bcs.

    @Override
    public void conv2dDirect(float[] x, int xOff, int channels, int height, int width, float[] w, float[] bias,
                             int outChannels, int kernel, int pad, float[] y, int yOff) {
        DirectConv.conv2d(x, xOff, channels, height, width, w, bias, outChannels, kernel, pad, y, yOff);
    }

    @Override
    public void conv2dWeightGradient(float[] x, int xOff, int channels, int height, int width, float[] dy, int dyOff,
                                     int outChannels, int kernel, int pad, float[] dw, int dwOff, boolean accumulate) {
        DirectConv.weightGradient(x, xOff, channels, height, width, dy, dyOff, outChannels, kernel, pad, dw, dwOff, accumulate);
    }

    @Override
    public void gemmNN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        Gemm.gemm(m, n, k, a, aOff, k, 1, b, bOff, n, 1, c, cOff, accumulate, null, false);
    }

    @Override
    public void gemmNT(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        Gemm.gemm(m, n, k, a, aOff, k, 1, b, bOff, 1, k, c, cOff, accumulate, null, false);
    }

    @Override
    public void gemmTN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        Gemm.gemm(m, n, k, a, aOff, 1, m, b, bOff, n, 1, c, cOff, accumulate, null, false);
    }

    @Override
    public void gemmNTBias(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                           float[] bias, float[] c, int cOff, boolean relu) {
        Gemm.gemm(m, n, k, a, aOff, k, 1, b, bOff, 1, k, c, cOff, false, bias, relu);
    }

    @Override
    public void gemv(int m, int n, float[] a, int aOff, float[] x, int xOff,
                     float[] y, int yOff, boolean accumulate) {
        Gemv.gemv(m, n, a, aOff, x, xOff, y, yOff, accumulate);
    }

    @Override
    public void addBias(int rows, int cols, float[] bias, float[] c, int cOff) {
        for (int r = 0; r < rows; r++) {
            int o = cOff + r * cols;
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                FloatVector.fromArray(S, c, o + j, mask).add(FloatVector.fromArray(S, bias, j, mask))
                        .intoArray(c, o + j, mask);
            }
        }
    }

    @Override
    public void columnSums(int rows, int cols, float[] src, int srcOff, float[] dst, boolean accumulate) {
        for (int j = 0; j < cols; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, cols);
            FloatVector s = accumulate ? FloatVector.fromArray(S, dst, j, mask) : FloatVector.zero(S);
            for (int r = 0; r < rows; r++) s = s.add(FloatVector.fromArray(S, src, srcOff + r * cols + j, mask));
            s.intoArray(dst, j, mask);
        }
    }

    @Override
    public void relu(float[] x, float[] y, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, i).max(0f).intoArray(y, i);
        }
        for (; i < n; i++) y[i] = Math.max(x[i], 0f);
    }

    @Override
    public void reluBackward(float[] x, float[] gradOut, float[] gradIn, int n) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            VectorMask<Float> positive = FloatVector.fromArray(S, x, i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(S, gradOut, i), positive).intoArray(gradIn, i);
        }
        for (; i < n; i++) gradIn[i] = x[i] > 0f ? gradOut[i] : 0f;
    }

    @Override
    public void softmax(int rows, int cols, float[] x, float[] y) {
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float inv = 1f / expShiftedSum(x, y, o, cols, rowMax(x, o, cols));
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                FloatVector.fromArray(S, y, o + j, mask).mul(inv).intoArray(y, o + j, mask);
            }
        }
    }

    @Override
    public void logSoftmax(int rows, int cols, float[] x, float[] y) {
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float max = rowMax(x, o, cols);
            // the exps land in y, which the next loop overwrites
            float shift = max + (float) StrictMath.log(expShiftedSum(x, y, o, cols, max));
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                FloatVector.fromArray(S, x, o + j, mask).sub(shift).intoArray(y, o + j, mask);
            }
        }
    }

    /**
     * Adds the lanes in a fixed order. {@code reduceLanes(ADD)} is not used because its order is
     * unspecified: the interpreter adds sequentially while C2 adds as a tree, so the same call
     * would give different bits before and after JIT compilation.
     */
    static float sumLanes(FloatVector v) {
        float[] lanes = new float[L];
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < L; i++) s += lanes[i];
        return s;
    }

    /**
     * Writes {@code exp(x - max)} of one row into {@code y} and returns their sum. The exps are
     * taken lane by lane with StrictMath: {@code lanewise(EXP)} is computed one way by the
     * interpreter and another (SVML) once C2 compiles it, which breaks reproducibility.
     */
    private static float expShiftedSum(float[] x, float[] y, int o, int cols, float max) {
        for (int j = 0; j < cols; j++) y[o + j] = (float) StrictMath.exp(x[o + j] - max);
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < cols; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, cols);
            sum = sum.add(FloatVector.fromArray(S, y, o + j, mask), mask);
        }
        return sumLanes(sum);
    }

    private static float rowMax(float[] x, int o, int cols) {
        FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < cols; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, cols);
            max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, x, o + j, mask), mask);
        }
        return max.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link FloatKernels#maxPool2x2} L outputs at a time: each image row's 2L pixels of a run
     * split into their even and odd columns (two lane permutations and a blend per vector), the
     * windows' four candidates compared as keys the way the twin does, first the two of each row
     * (the right one only if larger), then the bottom winner only if larger than the top one, which
     * is the first maximum in scan order. Values and indices are chosen by the same masks. A row
     * of at least L outputs ends with a run that overlaps the one before (its outputs are computed
     * twice, alike); a shorter row goes window by window. LeNet-5's first pooling (batch 128 x 6
     * planes of 28 x 28, half the inputs 0 as after a ReLU), one thread, medians of 21 rounds: 0.23
     * against 1.06 ms window by window. Its second (10 x 10, five outputs a row) as one run with
     * masked stores: 0.28-0.46 ms against 0.41-0.68 in a loop of its own, but 0.55-0.83 s an epoch
     * inside training against 0.30 window by window (not understood), so short rows stay scalar.
     */
    @Override
    public void maxPool2x2(float[] x, int height, int width, int from, int to, float[] y, int[] at) {
        int oh = height / 2, ow = width / 2;
        for (int p = from; p < to; p++) {
            for (int oy = 0; oy < oh; oy++) {
                int corner = p * height * width + 2 * oy * width, o = (p * oh + oy) * ow;
                if (ow >= L) {
                    for (int ox = 0; ; ox += L) {
                        ox = Math.min(ox, ow - L);
                        poolRun(x, corner + 2 * ox, width, y, at, o + ox);
                        if (ox + L == ow) break;
                    }
                } else {
                    for (int ox = 0; ox < ow; ox++) poolWindow(x, corner + 2 * ox, width, y, at, o + ox);
                }
            }
        }
    }

    /** L windows from pixel i on (their top-left corners i, i + 2, ..), stored at {@code o}. */
    private static void poolRun(float[] x, int i, int width, float[] y, int[] at, int o) {
        int j = i + width;
        FloatVector t0 = FloatVector.fromArray(S, x, i), t1 = FloatVector.fromArray(S, x, i + L);
        FloatVector b0 = FloatVector.fromArray(S, x, j), b1 = FloatVector.fromArray(S, x, j + L);
        FloatVector tl = t0.rearrange(EVEN).blend(t1.rearrange(EVEN), UPPER);
        FloatVector tr = t0.rearrange(ODD).blend(t1.rearrange(ODD), UPPER);
        FloatVector bl = b0.rearrange(EVEN).blend(b1.rearrange(EVEN), UPPER);
        FloatVector br = b0.rearrange(ODD).blend(b1.rearrange(ODD), UPPER);
        IntVector ktl = key(tl), ktr = key(tr), kbl = key(bl), kbr = key(br);
        VectorMask<Integer> right = ktl.compare(VectorOperators.LT, ktr);
        VectorMask<Integer> below = kbl.compare(VectorOperators.LT, kbr);
        IntVector kt = ktl.blend(ktr, right), kb = kbl.blend(kbr, below);
        VectorMask<Integer> lower = kt.compare(VectorOperators.LT, kb);
        FloatVector top = tl.blend(tr, right.cast(S)), bottom = bl.blend(br, below.cast(S));
        IntVector left = TWICE.add(i);
        IntVector ti = left.blend(left.add(1), right), bi = left.add(width).blend(left.add(width + 1), below);
        top.blend(bottom, lower.cast(S)).intoArray(y, o);
        ti.blend(bi, lower).intoArray(at, o);
    }

    /** One window, the twin's rule without branches (random data makes a branch a coin toss). */
    private static void poolWindow(float[] x, int i, int width, float[] y, int[] at, int o) {
        int j = i + width;
        int k0 = FloatKernels.poolKey(x[i]), k1 = FloatKernels.poolKey(x[i + 1]);
        int k2 = FloatKernels.poolKey(x[j]), k3 = FloatKernels.poolKey(x[j + 1]);
        // all ones where the later key is larger
        int right = (int) (((long) k0 - k1) >> 63), below = (int) (((long) k2 - k3) >> 63);
        int top = i - right, kt = k0 ^ ((k0 ^ k1) & right);
        int bottom = j - below, kb = k2 ^ ((k2 ^ k3) & below);
        int lower = (int) (((long) kt - kb) >> 63);
        int first = top ^ ((top ^ bottom) & lower);
        at[o] = first;
        y[o] = x[first];
    }

    /** {@link FloatKernels#poolKey} lane by lane: every NaN as the one pattern {@code floatToIntBits} gives. */
    private static IntVector key(FloatVector v) {
        IntVector bits = v.reinterpretAsInts().blend(0x7fc00000, v.test(VectorOperators.IS_NAN).cast(I));
        return bits.lanewise(VectorOperators.XOR, bits.lanewise(VectorOperators.ASHR, 31).and(0x7fffffff));
    }
}
