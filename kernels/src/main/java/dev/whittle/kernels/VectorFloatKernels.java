package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
}
