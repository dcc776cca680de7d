package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 kernels on the Vector API. Every output element is produced by the same sequence of
 * operations wherever it sits (full tile, row tail or masked column tail), which is what makes
 * results independent of how rows are split across threads.
 */
final class VectorFloatKernels implements FloatKernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Below this many multiply-adds a product is not worth handing to other threads. */
    private static final long PARALLEL_WORK = 1L << 16;

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

    @Override
    public void gemmNN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        broadcastGemm(m, n, k, a, aOff, k, 1, b, bOff, c, cOff, accumulate);
    }

    @Override
    public void gemmTN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        broadcastGemm(m, n, k, a, aOff, 1, m, b, bOff, c, cOff, accumulate);
    }

    /**
     * C (+)= A.B where element (i, p) of A sits at {@code aOff + i*rowStride + p*colStride}: one
     * routine serves A.B and A^T.B. A 4-row by 2-vector tile of C stays in registers while p
     * walks down B's rows, so each B load feeds four FMAs.
     */
    private static void broadcastGemm(int m, int n, int k, float[] a, int aOff, int rowStride, int colStride,
                                      float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        if (m == 0 || n == 0) return;
        Parallel.RangeTask rows = (from, to) -> {
            int i = from;
            for (; i + 4 <= to; i += 4) rowBlock4(i, n, k, a, aOff, rowStride, colStride, b, bOff, c, cOff, accumulate);
            for (; i < to; i++) rowBlock1(i, n, k, a, aOff, rowStride, colStride, b, bOff, c, cOff, accumulate);
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, m);
        else Parallel.forRange(m, 4, rows);
    }

    private static void rowBlock4(int i, int n, int k, float[] a, int aOff, int rs, int cs,
                                  float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        int a0 = aOff + i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        int c0 = cOff + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            FloatVector r0, r1, r2, r3;
            if (accumulate) {
                r0 = FloatVector.fromArray(S, c, c0 + j, mask);
                r1 = FloatVector.fromArray(S, c, c1 + j, mask);
                r2 = FloatVector.fromArray(S, c, c2 + j, mask);
                r3 = FloatVector.fromArray(S, c, c3 + j, mask);
            } else {
                r0 = r1 = r2 = r3 = FloatVector.zero(S);
            }
            for (int p = 0; p < k; p++) {
                FloatVector bv = FloatVector.fromArray(S, b, bOff + p * n + j, mask);
                int ap = p * cs;
                r0 = bv.fma(FloatVector.broadcast(S, a[a0 + ap]), r0);
                r1 = bv.fma(FloatVector.broadcast(S, a[a1 + ap]), r1);
                r2 = bv.fma(FloatVector.broadcast(S, a[a2 + ap]), r2);
                r3 = bv.fma(FloatVector.broadcast(S, a[a3 + ap]), r3);
            }
            r0.intoArray(c, c0 + j, mask);
            r1.intoArray(c, c1 + j, mask);
            r2.intoArray(c, c2 + j, mask);
            r3.intoArray(c, c3 + j, mask);
        }
    }

    private static void rowBlock1(int i, int n, int k, float[] a, int aOff, int rs, int cs,
                                  float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        int a0 = aOff + i * rs;
        int c0 = cOff + i * n;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            FloatVector r0 = accumulate ? FloatVector.fromArray(S, c, c0 + j, mask) : FloatVector.zero(S);
            for (int p = 0; p < k; p++) {
                r0 = FloatVector.fromArray(S, b, bOff + p * n + j, mask).fma(FloatVector.broadcast(S, a[a0 + p * cs]), r0);
            }
            r0.intoArray(c, c0 + j, mask);
        }
    }

    @Override
    public void gemmNT(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        if (m == 0 || n == 0) return;
        Parallel.RangeTask rows = (from, to) -> {
            for (int i = from; i < to; i++) {
                int ai = aOff + i * k, ci = cOff + i * n;
                for (int j = 0; j < n; j++) {
                    float d = dot(a, ai, b, bOff + j * k, k);
                    c[ci + j] = accumulate ? c[ci + j] + d : d;
                }
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, m);
        else Parallel.forRange(m, 1, rows);
    }

    @Override
    public void gemv(int m, int n, float[] a, int aOff, float[] x, int xOff,
                     float[] y, int yOff, boolean accumulate) {
        Parallel.RangeTask rows = (from, to) -> {
            for (int i = from; i < to; i++) {
                float d = dot(a, aOff + i * n, x, xOff, n);
                y[yOff + i] = accumulate ? y[yOff + i] + d : d;
            }
        };
        if ((long) m * n < PARALLEL_WORK) rows.run(0, m);
        else Parallel.forRange(m, 1, rows);
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
            float max = rowMax(x, o, cols);
            FloatVector sum = FloatVector.zero(S);
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                FloatVector e = FloatVector.fromArray(S, x, o + j, mask).sub(max).lanewise(VectorOperators.EXP);
                e.intoArray(y, o + j, mask);
                sum = sum.add(e, mask);
            }
            float inv = 1f / sumLanes(sum);
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
            FloatVector sum = FloatVector.zero(S);
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                sum = sum.add(FloatVector.fromArray(S, x, o + j, mask).sub(max).lanewise(VectorOperators.EXP), mask);
            }
            float shift = max + (float) Math.log(sumLanes(sum));
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

    private static float rowMax(float[] x, int o, int cols) {
        FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < cols; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, cols);
            max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, x, o + j, mask), mask);
        }
        return max.reduceLanes(VectorOperators.MAX);
    }
}
