package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector product {@code y (+)= A.x} for a row-major A: batch-1 inference. Each matrix
 * element is used once, so the product is bound by how fast A streams from memory, not by
 * arithmetic. Eight rows are read side by side (eight streams keep more cache-line fetches in flight
 * than one, and each load of x feeds eight FMAs); eight rows give eight independent FMA chains, so
 * one accumulator per row is enough to hide the FMA latency when A is in cache. Measured on
 * 4096 x 4096 against four rows with two accumulators each: about 9% faster. Later measurements on
 * 4096 x 4096 (medians of 15 interleaved rounds, GFLOPS): eight rows 9.7, four rows 9.7, two rows
 * 9.0, one row 7.4; eight rows with the column loop unrolled twice 11.2 against 11.6; touching each
 * row 1-8 KB ahead (a scalar load per cache line, to start the next page's misses early) 5.4-6.9,
 * slower. The product streams 64 MB at what one core can pull from memory (about 20 GB/s here); the
 * one lever left is the page size: the same loop on a heap in transparent huge pages
 * ({@code -XX:+UseTransparentHugePages}) ran 10.5 against 9.4, as numpy (which advises huge pages
 * for large arrays) does for OpenBLAS: 9.0 against 7.6 without them.
 *
 * <p>Every row is reduced the same way whether it falls in a block of eight or in the remainder:
 * one vector accumulator over the whole vectors, its lanes added in order
 * ({@link VectorFloatKernels#sumLanes}), then the scalar tail, so y does not depend on how rows are
 * split across threads.
 */
final class Gemv {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Below this many multiply-adds the product stays on the calling thread. Measured on the
     * 2-vCPU host with {@link Parallel#forChunks}, three runs: two threads took 1.05-1.06x the
     * time of one at 512 x 512, 0.73-0.88x at 1024 x 1024, 0.57-0.68x at 1448 and 2048 square.
     */
    private static final long PARALLEL_WORK = 1L << 19;
    private static final int ROWS = 8;

    private Gemv() {}

    static void gemv(int m, int n, float[] a, int aOff, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        if (m == 0) return;
        Parallel.RangeTask rows = (from, to) -> {
            int i = from;
            for (; i + ROWS <= to; i += ROWS) rows8(n, a, aOff + i * n, x, xOff, y, yOff + i, accumulate);
            for (; i < to; i++) {
                float s = row(n, a, aOff + i * n, x, xOff);
                y[yOff + i] = accumulate ? y[yOff + i] + s : s;
            }
        };
        if ((long) m * n < PARALLEL_WORK) rows.run(0, m);
        else Parallel.forChunks(m, ROWS, rows);
    }

    /** One row: the reference order every row follows. */
    static float row(int n, float[] a, int ao, float[] x, int xo) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(n); j < bound; j += L) {
            acc = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, x, xo + j), acc);
        }
        float s = VectorFloatKernels.sumLanes(acc);
        for (; j < n; j++) s = Math.fma(a[ao + j], x[xo + j], s);
        return s;
    }

    /** Eight rows at once, each in exactly the order of {@link #row}; one load of x feeds eight FMAs. */
    private static void rows8(int n, float[] a, int a0, float[] x, int xo, float[] y, int yo, boolean accumulate) {
        int a1 = a0 + n, a2 = a1 + n, a3 = a2 + n, a4 = a3 + n, a5 = a4 + n, a6 = a5 + n, a7 = a6 + n;
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        int j = 0;
        for (int bound = S.loopBound(n); j < bound; j += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + j);
            c0 = FloatVector.fromArray(S, a, a0 + j).fma(xv, c0);
            c1 = FloatVector.fromArray(S, a, a1 + j).fma(xv, c1);
            c2 = FloatVector.fromArray(S, a, a2 + j).fma(xv, c2);
            c3 = FloatVector.fromArray(S, a, a3 + j).fma(xv, c3);
            c4 = FloatVector.fromArray(S, a, a4 + j).fma(xv, c4);
            c5 = FloatVector.fromArray(S, a, a5 + j).fma(xv, c5);
            c6 = FloatVector.fromArray(S, a, a6 + j).fma(xv, c6);
            c7 = FloatVector.fromArray(S, a, a7 + j).fma(xv, c7);
        }
        float[] s = {VectorFloatKernels.sumLanes(c0), VectorFloatKernels.sumLanes(c1), VectorFloatKernels.sumLanes(c2),
                VectorFloatKernels.sumLanes(c3), VectorFloatKernels.sumLanes(c4), VectorFloatKernels.sumLanes(c5),
                VectorFloatKernels.sumLanes(c6), VectorFloatKernels.sumLanes(c7)};
        for (int r = 0; r < ROWS; r++) {
            int ar = a0 + r * n;
            float v = s[r];
            for (int t = j; t < n; t++) v = Math.fma(a[ar + t], x[xo + t], v);
            y[yo + r] = accumulate ? y[yo + r] + v : v;
        }
    }
}
