package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sparse kernels on the Vector API, in the order {@link SparseKernels} fixes: eight partial
 * sums per output element, one per lane of a 256-bit vector (the species is fixed rather than
 * preferred, because the number of partial sums is part of the result's bits).
 *
 * <p>{@link #spmv}: a row's values are loaded eight at a time and the x they multiply gathered
 * through the row's column indices; lane l accumulates nonzeros l, l+8, l+16, ... Measured on
 * 4096x4096 at density 0.1 (one thread, a host loaded by other jobs, so A/B runs interleaved):
 * eight scalar accumulators with scalar loads gave the same speed within the noise (22.5/17.5
 * against 23.0/29.6 dense-equivalent GFLOPS); 16-bit column indices with scalar loads were slower
 * (21.1/18.0 against 23.9/22.7 for int indices and gathers) although they stream 25% fewer bytes;
 * two rows in flight (adjacent, or a quarter of the matrix apart for more memory streams) were
 * slower still.
 *
 * <p>{@link #spmmNT}: x is packed transposed in blocks of eight batch rows ({@code xt[c][lane]}),
 * so one nonzero {@code A[r][c]} is a broadcast times one contiguous load, updating the same output
 * element of eight batch rows at once. Eight accumulators take nonzeros t mod 8: the partial sums
 * of the fixed order, and eight independent FMA chains, enough to hide the FMA latency. Outputs are
 * collected transposed ({@code yt[r][lane]}) and written back to y's rows after the block. This
 * loop order ran 4.7x faster per batch row than gathering each row of x separately (300x784,
 * density 0.1, batch 8 or more: 4.7 against 22.1 microseconds per batch row).
 */
final class VectorSparseKernels implements SparseKernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int L = 8;
    /** Below this many nonzeros a spmv stays on the calling thread (a hand-off costs tens of microseconds). */
    private static final long PARALLEL_SPMV = 1L << 17;
    /** Below this many multiply-adds (nnz x batch) a spmmNT stays on the calling thread. */
    private static final long PARALLEL_SPMM = 1L << 21;
    /** Rows per unit of work handed to a thread. */
    private static final int GRAIN = 16;
    /**
     * Below this batch, rows of x are multiplied one by one with gathers instead of packed. On
     * 300x784, one thread, microseconds per batch row at density 0.1 (0.3): gathers 22.1 (55.3) at
     * any batch; packed 9.2 (20.6) at batch 4, 4.7 (10.9) at 8, 4.8 (10.3) at 64. A packed block
     * costs the same for one row as for eight, so packing wins from two rows (2 x 22.1 > 4 x 9.2).
     */
    private static final int PACK_MIN_BATCH = 2;

    /** The packed x and the transposed output block, one set per thread, grown to the largest call seen. */
    private static final class Workspace {
        float[] xt = new float[0];
        float[] yt = new float[0];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    @Override
    public void spmv(CsrMatrix a, float[] x, int xOff, float[] y, int yOff) {
        a.checkSpmv(x, xOff, y, yOff);
        Parallel.RangeTask task = (from, to) -> {
            for (int r = from; r < to; r++) y[yOff + r] = row(a.rowPointers[r], a.rowPointers[r + 1], a.columnIndices, a.values, x, xOff);
        };
        if (a.nnz() < PARALLEL_SPMV) task.run(0, a.rows());
        else Parallel.forChunks(a.rows(), GRAIN, task);
    }

    /** One row by gathers: the fixed order, with the eight partial sums as the lanes of one vector. */
    static float row(int p, int end, int[] col, float[] val, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        int grouped = p + ((end - p) & -L);
        for (; p < grouped; p += L) {
            acc = FloatVector.fromArray(S, val, p).fma(FloatVector.fromArray(S, x, xOff, col, p), acc);
        }
        float s = sumLanes(acc);
        for (; p < end; p++) s = Math.fma(val[p], x[xOff + col[p]], s);
        return s;
    }

    /** {@code 0 + lane 0 + lane 1 + ... + lane 7}, in that order (never reduceLanes: its order is unspecified). */
    private static float sumLanes(FloatVector v) {
        return 0f + v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
    }

    @Override
    public void spmmNT(int m, float[] x, int xOff, CsrMatrix a, float[] bias, boolean relu, float[] y, int yOff) {
        a.checkSpmmNT(m, x, xOff, bias, y, yOff);
        int rows = a.rows(), cols = a.cols();
        if (m == 0) return;
        boolean parallel = (long) a.nnz() * m >= PARALLEL_SPMM;
        if (m < PACK_MIN_BATCH) {
            Parallel.RangeTask task = (from, to) -> {
                for (int b = 0; b < m; b++) {
                    for (int r = from; r < to; r++) {
                        float s = row(a.rowPointers[r], a.rowPointers[r + 1], a.columnIndices, a.values, x, xOff + b * cols);
                        if (bias != null) s += bias[r];
                        if (relu) s = Math.max(s, 0f);
                        y[yOff + b * rows + r] = s;
                    }
                }
            };
            if (parallel) Parallel.forRange(rows, GRAIN, task);
            else task.run(0, rows);
            return;
        }
        int blocks = (m + L - 1) / L;
        Workspace w = WORKSPACE.get();
        if (w.xt.length < blocks * cols * L) w.xt = new float[blocks * cols * L];
        float[] xt = w.xt;
        packTransposed(m, cols, x, xOff, xt);
        Parallel.RangeTask task = (from, to) -> {
            Workspace own = WORKSPACE.get();
            if (own.yt.length < (to - from) * L) own.yt = new float[(to - from) * L];
            float[] yt = own.yt;
            for (int blk = 0; blk < blocks; blk++) {
                int xb = blk * cols * L;
                for (int r = from; r < to; r++) {
                    rowBlock(a.rowPointers[r], a.rowPointers[r + 1], a.columnIndices, a.values, xt, xb,
                            bias != null, bias != null ? bias[r] : 0f, relu, yt, (r - from) * L);
                }
                int lanes = Math.min(L, m - blk * L);
                for (int l = 0; l < lanes; l++) {
                    int yo = yOff + (blk * L + l) * rows;
                    for (int r = from; r < to; r++) y[yo + r] = yt[(r - from) * L + l];
                }
            }
        };
        if (parallel) Parallel.forRange(rows, GRAIN, task);
        else task.run(0, rows);
    }

    /**
     * {@code xt[blk][c][l] = x[blk * 8 + l][c]}: blocks of eight batch rows, each column's eight
     * values contiguous; lanes past the batch are zero (computed and never stored).
     */
    private static void packTransposed(int m, int cols, float[] x, int xOff, float[] xt) {
        int blocks = (m + L - 1) / L;
        for (int blk = 0; blk < blocks; blk++) {
            int base = blk * cols * L;
            for (int l = 0; l < L; l++) {
                int b = blk * L + l;
                if (b < m) {
                    int xo = xOff + b * cols;
                    for (int c = 0; c < cols; c++) xt[base + c * L + l] = x[xo + c];
                } else {
                    for (int c = 0; c < cols; c++) xt[base + c * L + l] = 0f;
                }
            }
        }
    }

    /**
     * One row of A against a block of eight packed batch rows: lane l is the fixed-order sum for
     * batch row l, then bias and ReLU, stored at {@code yt[yo ..]}. The result is stored here rather
     * than returned: a vector returned from a call C2 does not inline is boxed on the heap.
     */
    private static void rowBlock(int p, int end, int[] col, float[] val, float[] xt, int xb,
                                 boolean hasBias, float bias, boolean relu, float[] yt, int yo) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
        int grouped = p + ((end - p) & -L);
        for (; p < grouped; p += L) {
            a0 = FloatVector.fromArray(S, xt, xb + col[p] * L).fma(FloatVector.broadcast(S, val[p]), a0);
            a1 = FloatVector.fromArray(S, xt, xb + col[p + 1] * L).fma(FloatVector.broadcast(S, val[p + 1]), a1);
            a2 = FloatVector.fromArray(S, xt, xb + col[p + 2] * L).fma(FloatVector.broadcast(S, val[p + 2]), a2);
            a3 = FloatVector.fromArray(S, xt, xb + col[p + 3] * L).fma(FloatVector.broadcast(S, val[p + 3]), a3);
            a4 = FloatVector.fromArray(S, xt, xb + col[p + 4] * L).fma(FloatVector.broadcast(S, val[p + 4]), a4);
            a5 = FloatVector.fromArray(S, xt, xb + col[p + 5] * L).fma(FloatVector.broadcast(S, val[p + 5]), a5);
            a6 = FloatVector.fromArray(S, xt, xb + col[p + 6] * L).fma(FloatVector.broadcast(S, val[p + 6]), a6);
            a7 = FloatVector.fromArray(S, xt, xb + col[p + 7] * L).fma(FloatVector.broadcast(S, val[p + 7]), a7);
        }
        FloatVector s = FloatVector.zero(S).add(a0).add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7);
        for (; p < end; p++) s = FloatVector.fromArray(S, xt, xb + col[p] * L).fma(FloatVector.broadcast(S, val[p]), s);
        if (hasBias) s = s.add(bias);
        if (relu) s = s.max(0f);
        s.intoArray(yt, yo);
    }

    /**
     * Lanes are eight consecutive output positions {@code q} (see {@link SparseFilters}), so a tap
     * is one broadcast times one contiguous load; 64 positions go at once, eight independent FMA
     * chains (two FMA units with a latency of four cycles keep eight in flight), then 32 with four,
     * over the whole output plane as one run. Each lane sums its taps in order, so the result is the
     * scalar twin's bit for bit. The positions of padding columns are computed into the caller's
     * scratch plane and left there. Against rows of eight pixels with four rows in flight, on
     * LeNet-5's second convolution (10x10 outputs, rows of 14) the plane as one run does 5 blocks of
     * taps per filter instead of 8, with no one-chain remainder rows; eight chains instead of four
     * took 2.4-2.7 us against 3.3-3.6 on the first convolution of the compressed {@code lenet5}
     * (4 filters, 63 taps, 896 positions) and 3.1-3.3 against 4.5-4.8 on its second (10 filters,
     * 420 taps, 160 positions), medians of 20,000 alternating calls.
     */
    @Override
    public void conv2dSparse(SparseFilters f, float[] padded, float[] plane, float[] y, int yOff) {
        f.check(padded, plane, y, yOff);
        int outH = f.outH, outW = f.outW, pw = f.paddedWidth;
        for (int o = 0; o < f.outC; o++) {
            filterPlane(f, o, padded, plane, 0);
            int at = yOff + o * outH * outW;
            for (int oy = 0; oy < outH; oy++) System.arraycopy(plane, oy * pw, y, at + oy * outW, outW);
        }
    }

    /**
     * Two filters with their taps at the same offsets (all of {@link SparseFilters#dense}'s) run
     * together ({@link #pairPlanes}): each input load feeds both. One filter at a time the kernel
     * is bound by loads, one per FMA.
     */
    @Override
    public void conv2dSparsePlanes(SparseFilters f, float[] padded, float[] planes, int off) {
        f.checkPlanes(padded, planes, off);
        int positions = f.positions();
        for (int o = 0; o < f.outC; o++) {
            if (f.pairs[o]) {
                pairPlanes(f, o, padded, planes, off + o * positions);
                o++;
            } else {
                filterPlane(f, o, padded, planes, off + o * positions);
            }
        }
    }

    /**
     * {@link #filterPlane} for filters o and o + 1, whose taps are at the same offsets: four vectors
     * of positions at a time, eight FMA chains, each load of the input feeding two of them. Each
     * output is still its own filter's FMA chain over its taps in order.
     */
    private static void pairPlanes(SparseFilters f, int o, float[] padded, float[] dst, int at) {
        int positions = f.positions(), second = at + positions;
        int[] off = f.offsets;
        float[] val = f.values;
        int t0 = f.filterPointers[o], t1 = f.filterPointers[o + 1], shift = t1 - t0;
        for (int q = 0; q < positions; q += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int t = t0; t < t1; t++) {
                int p = off[t] + q;
                FloatVector x0 = FloatVector.fromArray(S, padded, p), x1 = FloatVector.fromArray(S, padded, p + L);
                FloatVector x2 = FloatVector.fromArray(S, padded, p + 2 * L), x3 = FloatVector.fromArray(S, padded, p + 3 * L);
                FloatVector v = FloatVector.broadcast(S, val[t]);
                a0 = v.fma(x0, a0);
                a1 = v.fma(x1, a1);
                a2 = v.fma(x2, a2);
                a3 = v.fma(x3, a3);
                v = FloatVector.broadcast(S, val[t + shift]);
                b0 = v.fma(x0, b0);
                b1 = v.fma(x1, b1);
                b2 = v.fma(x2, b2);
                b3 = v.fma(x3, b3);
            }
            a0.intoArray(dst, at + q);
            a1.intoArray(dst, at + q + L);
            a2.intoArray(dst, at + q + 2 * L);
            a3.intoArray(dst, at + q + 3 * L);
            b0.intoArray(dst, second + q);
            b1.intoArray(dst, second + q + L);
            b2.intoArray(dst, second + q + 2 * L);
            b3.intoArray(dst, second + q + 3 * L);
        }
    }

    /** Filter {@code o}'s sums over all {@link SparseFilters#positions} into {@code dst[at ..]}. */
    private static void filterPlane(SparseFilters f, int o, float[] padded, float[] dst, int at) {
        int positions = f.positions();
        int[] off = f.offsets;
        float[] val = f.values;
        int t0 = f.filterPointers[o], t1 = f.filterPointers[o + 1];
        int q = 0;
        for (; q + 8 * L <= positions; q += 8 * L) {
            // eight chains of FMAs: two FMA units with a latency of four cycles keep eight in flight
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int t = t0; t < t1; t++) {
                FloatVector v = FloatVector.broadcast(S, val[t]);
                int p = off[t] + q;
                a0 = v.fma(FloatVector.fromArray(S, padded, p), a0);
                a1 = v.fma(FloatVector.fromArray(S, padded, p + L), a1);
                a2 = v.fma(FloatVector.fromArray(S, padded, p + 2 * L), a2);
                a3 = v.fma(FloatVector.fromArray(S, padded, p + 3 * L), a3);
                a4 = v.fma(FloatVector.fromArray(S, padded, p + 4 * L), a4);
                a5 = v.fma(FloatVector.fromArray(S, padded, p + 5 * L), a5);
                a6 = v.fma(FloatVector.fromArray(S, padded, p + 6 * L), a6);
                a7 = v.fma(FloatVector.fromArray(S, padded, p + 7 * L), a7);
            }
            a0.intoArray(dst, at + q);
            a1.intoArray(dst, at + q + L);
            a2.intoArray(dst, at + q + 2 * L);
            a3.intoArray(dst, at + q + 3 * L);
            a4.intoArray(dst, at + q + 4 * L);
            a5.intoArray(dst, at + q + 5 * L);
            a6.intoArray(dst, at + q + 6 * L);
            a7.intoArray(dst, at + q + 7 * L);
        }
        for (; q < positions; q += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int t = t0; t < t1; t++) {
                FloatVector v = FloatVector.broadcast(S, val[t]);
                int p = off[t] + q;
                a0 = v.fma(FloatVector.fromArray(S, padded, p), a0);
                a1 = v.fma(FloatVector.fromArray(S, padded, p + L), a1);
                a2 = v.fma(FloatVector.fromArray(S, padded, p + 2 * L), a2);
                a3 = v.fma(FloatVector.fromArray(S, padded, p + 3 * L), a3);
            }
            a0.intoArray(dst, at + q);
            a1.intoArray(dst, at + q + L);
            a2.intoArray(dst, at + q + 2 * L);
            a3.intoArray(dst, at + q + 3 * L);
        }
    }
}
