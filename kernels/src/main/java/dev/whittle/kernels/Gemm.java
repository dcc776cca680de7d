package dev.whittle.kernels;

import static dev.whittle.kernels.GemmMicroKernel.L;
import static dev.whittle.kernels.GemmMicroKernel.MR;
import static dev.whittle.kernels.GemmMicroKernel.NR;
import static dev.whittle.kernels.GemmMicroKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Single-precision matrix product {@code C (+)= A.B}, blocked for the caches and packed, after
 * Goto and van de Geijn (2008) and BLIS (Van Zee and van de Geijn, 2015):
 *
 * <pre>
 *   for jc over N by NC                  a B block (KC x NC) is packed once, reused by every ic
 *     for pc over K by KC
 *       for ic over M by MC              pack the A block (MC x KC): it stays in L2
 *         for jr over NC by NR           B micro-panel (KC x NR, up to 64 KB): L1 / L2
 *           for ir over MC by MR         {@link GemmMicroKernel}: a 6 x 16 tile of C in registers
 * </pre>
 *
 * Packing copies each block into the order the micro-kernel reads it (p-major micro-panels,
 * padded with zeros to whole tiles), so one kernel serves A.B, A.B^T and A^T.B: the layouts differ
 * only in the strides the packing routines walk. B micro-panels are packed lazily during the first
 * pass over A, while they are about to be used, so a product with few rows (a convolution's 6 or 16
 * output channels) reads each freshly packed panel from L1 rather than from L2.
 *
 * <p><b>Determinism.</b> Every element of C is computed as one FMA chain over p = 0..k-1 in order,
 * starting from C's old value or zero: a K block ends by storing the float accumulator to C and the
 * next one reloads it, which rounds nothing. Edge tiles run the same kernel on a zero-padded copy.
 * So the bits of C depend on neither the blocking nor the thread count nor where an element sits.
 * Threads share out C by rows ({@link #sharedB}): each packed B block is shared between them (B
 * is packed once, not once per row chunk, and the L3 holds one B block rather than one per thread),
 * and the A blocks are taken one by one. On 2048^3 with 2 threads the median per-round ratio against
 * every chunk packing its own B was 1.23x (a loaded host). Products below 2^27 multiply-adds used
 * to give every row chunk its own packed B: a training batch's {@code 128 x 300 x 784} A.B^T
 * product, in six row chunks, packed its 940 KB B six times (about 100 us each, a ninth of the
 * product's time on one thread) and ran slower on two threads than on one (916 against 861 us;
 * now 577-722). A C
 * with too few rows (under two tiles per thread) is split by columns instead, each chunk packing
 * its own columns of B and all of the (small) A.
 *
 * <p>Blocking. Every K block after the first reloads the C tile and stores it again; C's rows are
 * 4 or 8 KB apart in a square product, so those loads and stores miss and cost more than the
 * B micro-panel leaving L1. A deep KC (one K block for k up to 1024, so a product that does not
 * accumulate never reads C) with MC = 96 (the A block, 384 KB, still in L2) measured, as the median
 * of per-round ratios over interleaved rounds against KC = 256, MC = 128: 1.09-1.19x on 1024^3 and
 * 1.09x on 2048^3 (KC = 512: 1.01x and 1.07-1.15x). Skipping the C loads and stores altogether
 * (wrong results, as a bound) gave 1.08x on 1024^3 and 1.32x on 2048^3. An earlier sweep, with
 * the tile stored straight into C, found KC from 128 to 384 and MC from 64 to 512 within the noise
 * of each other on 1024^3; NC = 256 or 512 (a B block that fits in L2) was no better than one
 * block for the whole row. Tried and dropped (2048^3, same method): loading the next tile's C
 * before running the current one, so its misses overlap the FMAs, 1.01x; the loop order
 * jc, ic, pc with B packed for all of K so that a C block stays in L2 between K blocks, 0.90-0.97x.
 *
 * <p>Against OpenBLAS ({@code whittle bench kernels --peer openblas}, a shared and loaded host),
 * one thread: 1024^3 0.89-0.99x, 2048^3 0.92-0.97x (before: 0.6-0.7x); two threads, 2048^3:
 * 0.76-0.87x. About 92% of the time of a 2048^3 product is in the micro-kernel (perf).
 */
final class Gemm {

    /** Depth of a block: deep, so that C is reloaded rarely (see the class comment). */
    static final int KC = 1024;
    /** Rows of an A block: MC x KC x 4 B = 384 KB, three quarters of the 512 KB L2. */
    static final int MC = 96;
    /** Columns of a B block: KC x NC x 4 B = 8 MB per thread, in the (shared, 32 MB) L3. */
    static final int NC = 2048;
    /** Steps of a B^T micro-panel packed at a time: 256 x NR floats, 16 KB, half of L1d. */
    private static final int PACK_STEPS = 256;
    /**
     * Below this many multiply-adds a product stays on the calling thread (the INT8 GEMM uses the
     * same bound). When waking a parked pool thread cost tens of microseconds on every call, 2^22
     * was the break-even (two threads: 128x120x84, 1.3 M, ran at 0.47x, 128x100x300, 3.8 M, at
     * 0.98x the speed of one). Since the pool's threads poll for 2 ms after their last task
     * ({@link Parallel}), products of 1 to 4 M run faster shared out: two threads, {@code whittle
     * bench kernels} (two runs of each build taking turns), 128x100x300 A.B^T 42-59 against
     * 69-100 GFLOPS, 100x300x128 A^T.B 52-72 against 95-125, 128x300x100 50-53 against 89-115,
     * 128x84x120 42-59 against 76-77; batch-64 throughput of the FP32 {@code lenet-300-100} (two
     * threads, {@code bench models}) 127-152k against 174-185k samples/s, of {@code lenet5} 30-34k
     * against 37-42k. A pool thread that starts late finds the work claimed by the caller
     * ({@link #sharedB}), so a cold pool costs little.
     */
    static final long PARALLEL_WORK = 1L << 20;
    /** How long a thread of {@link #sharedB} spins at the end of a phase before it naps. */
    private static final long SPIN_NANOS = 200_000;
    /** B micro-panels packed together, reading B's rows across them ({@link #packBPanels}). */
    private static final int PACK_PANELS = 4;
    /** B micro-panels packed as one unit of work in {@link #sharedB}. */
    private static final int PANELS_PER_UNIT = 8;
    /** Chunks of C per thread when a product is shared out: some slack against a slowed core. */
    static final int CHUNKS_PER_THREAD = 3;

    /** Packing buffers and the edge tile, one set per thread, grown to the largest product seen. */
    private static final class Workspace {
        float[] a = new float[0];
        float[] b = new float[0];
        /** The B block this thread shares with the pool in {@link #sharedB}. */
        float[] shared = new float[0];
        final float[] tile = new float[MR * NR];
    }

    /** A step index the micro-kernel never reaches; passed, not folded, so its split stays. */
    private static final int NEVER = -1;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {}

    /**
     * {@code C[m x n] (+)= A[m x k] . B[k x n]}, then {@code + bias[j]} on column j when
     * {@code bias != null} and {@code max(., 0)} when {@code relu}. A's element (i, p) is
     * {@code a[aOff + i*ars + p*acs]}, B's element (p, j) is {@code b[bOff + p*brs + j*bcs]}; C is
     * row-major with rows of n. C must not overlap A or B.
     */
    static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                     float[] b, int bOff, int brs, int bcs, float[] c, int cOff,
                     boolean accumulate, float[] bias, boolean relu) {
        gemm(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, accumulate, bias, relu, KC, MC, NC);
    }

    /** {@link #gemm} with the cache blocks given (for measuring them). */
    static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                     float[] b, int bOff, int brs, int bcs, float[] c, int cOff,
                     boolean accumulate, float[] bias, boolean relu, int kcb, int mcb, int ncb) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                if (!accumulate) java.util.Arrays.fill(c, cOff + i * n, cOff + (i + 1) * n, 0f);
                if (bias != null || relu) epilogue(c, cOff + i * n, n, 1, n, bias, 0, relu);
            }
            return;
        }
        if (transposedIsCheaper(m, n)) {
            // C^T = B^T . A^T: the same products with the operands' roles exchanged, written back
            // transposed (each element's FMA chain is unchanged: x*y and y*x round alike)
            split(n, m, k, b, bOff, bcs, brs, a, aOff, acs, ars, c, cOff, 1, n, true, accumulate, bias, relu, kcb, mcb, ncb);
        } else {
            split(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, n, 1, false, accumulate, bias, relu, kcb, mcb, ncb);
        }
    }

    /**
     * Whether computing C^T takes fewer register tiles than C: a narrow C (a convolution's weight
     * gradient with 6 columns, a classifier with 10) wastes most of each NR-wide tile, while its
     * transpose fills MR-row tiles. Depends on the shape alone, never on the thread count.
     */
    static boolean transposedIsCheaper(int m, int n) {
        long tiles = (long) ceilDiv(m, MR) * ceilDiv(n, NR), transposed = (long) ceilDiv(n, MR) * ceilDiv(m, NR);
        return 5 * transposed < 4 * tiles;
    }

    /** Shares out C (element (i, j) at {@code c[cOff + i*crs + j*ccs]}) in contiguous ranges. */
    private static void split(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                              float[] b, int bOff, int brs, int bcs, float[] c, int cOff, int crs, int ccs,
                              boolean transposed, boolean accumulate, float[] bias, boolean relu, int kcb, int mcb, int ncb) {
        int threads = Parallel.threads();
        if ((long) m * n * k < PARALLEL_WORK || threads == 1) {
            block(0, m, 0, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, crs, ccs, transposed, accumulate, bias, relu, kcb, mcb, ncb);
        } else if (ceilDiv(m, MR) >= 2 * threads) {
            // rows shared out in A blocks, B packed once for all of them; A blocks small enough
            // that each thread gets several (a batch of 128 rows: 6 blocks of 24 on 2 threads)
            int mcRows = Math.min(mcb, roundUp(ceilDiv(m, CHUNKS_PER_THREAD * threads), MR));
            sharedB(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, crs, ccs, transposed, accumulate, bias, relu,
                    kcb, mcRows, ncb, threads);
        } else {
            int chunks = Math.min(ceilDiv(n, NR), CHUNKS_PER_THREAD * threads), grain = roundUp(ceilDiv(n, chunks), NR);
            Parallel.forEachChunk(ceilDiv(n, grain), chunk ->
                    block(0, m, chunk * grain, Math.min(n, (chunk + 1) * grain), k, a, aOff, ars, acs, b, bOff, brs, bcs,
                            c, cOff, crs, ccs, transposed, accumulate, bias, relu, kcb, mcb, ncb));
        }
    }

    /**
     * A product on several threads that share each packed B block: for every B block the
     * threads first pack its micro-panels together, then take the A blocks (MC rows each) one by
     * one, each thread packing its own A. Every unit of work (a run of B micro-panels, an A block)
     * goes to whichever thread asks next, and a thread that runs out of units in a phase waits until
     * the units others took are done. So a phase never waits for a thread that has not started
     * (the pool may be busy), and a core the host slows down gets less of the work. Which thread does
     * a unit never changes how it is computed, so C's bits stay those of one thread.
     */
    static void sharedB(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                                float[] b, int bOff, int brs, int bcs, float[] c, int cOff, int crs, int ccs,
                                boolean transposed, boolean accumulate, float[] bias, boolean relu,
                                int kcb, int mcb, int ncb, int threads) {
        int kcMax = ceilDiv(k, ceilDiv(k, kcb));
        int mcMax = roundUp(ceilDiv(m, ceilDiv(m, mcb)), MR);
        int ncMax = roundUp(ceilDiv(n, ceilDiv(n, ncb)), NR);
        int kBlocks = ceilDiv(k, kcMax), nBlocks = ceilDiv(n, ncMax), mBlocks = ceilDiv(m, mcMax);
        Workspace caller = WORKSPACE.get();
        if (caller.shared.length < kcMax * ncMax) caller.shared = new float[kcMax * ncMax];
        float[] bp = caller.shared;
        boolean epilogue = bias != null || relu;
        // two phases per B block: packing it (in runs of PANELS_PER_UNIT micro-panels), computing with it
        int phases = 2 * nBlocks * kBlocks;
        java.util.concurrent.atomic.AtomicIntegerArray taken = new java.util.concurrent.atomic.AtomicIntegerArray(phases);
        java.util.concurrent.atomic.AtomicIntegerArray done = new java.util.concurrent.atomic.AtomicIntegerArray(phases);
        Parallel.forRange(threads, 1, (from, to) -> {
            Workspace w = WORKSPACE.get();
            if (w.a.length < mcMax * kcMax + L) w.a = new float[mcMax * kcMax + L];
            float[] ap = w.a, tile = w.tile;
            int phase = 0;
            for (int jc = 0; jc < n; jc += ncMax) {
                int nc = Math.min(ncMax, n - jc), panels = ceilDiv(nc, NR), packUnits = ceilDiv(panels, PANELS_PER_UNIT);
                for (int pc = 0; pc < k; pc += kcMax, phase += 2) {
                    int kc = Math.min(kcMax, k - pc);
                    boolean load = accumulate || pc > 0, last = pc + kc == k;
                    for (int u; (u = taken.getAndIncrement(phase)) < packUnits; done.incrementAndGet(phase)) {
                        int q0 = u * PANELS_PER_UNIT, qEnd = Math.min(panels, q0 + PANELS_PER_UNIT);
                        if (bcs == 1) {
                            int jr = q0 * NR;
                            packBPanels(b, bOff + pc * brs + jc + jr, brs, kc, Math.min(qEnd * NR, nc) - jr, bp, jr * kc);
                        } else {
                            for (int q = q0; q < qEnd; q++) {
                                int jr = q * NR;
                                packB(b, bOff + pc * brs + (jc + jr) * bcs, brs, bcs, kc, Math.min(NR, nc - jr), bp, jr * kc);
                            }
                        }
                    }
                    awaitAll(done, phase, packUnits);
                    for (int u; (u = taken.getAndIncrement(phase + 1)) < mBlocks; done.incrementAndGet(phase + 1)) {
                        int ic = u * mcMax, mc = Math.min(mcMax, m - ic);
                        packA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc, ap);
                        macro(ic, mc, jc, nc, pc, kc, false, ap, bp, tile, b, bOff, brs, bcs, c, cOff, crs, ccs,
                                transposed, load, last && epilogue, bias, relu);
                    }
                    // the next phase repacks bp: wait until every A block has finished reading it
                    awaitAll(done, phase + 1, mBlocks);
                }
            }
        });
    }

    /**
     * Waits until {@code units} units of {@code phase} are done: spins for up to
     * {@link #SPIN_NANOS}, then sleeps in short naps. A 20 us nap lasts about 100 us here (the timer
     * slack; median of 2,000), so a thread that napped at the end of a small product's packing phase started
     * its A blocks late. Napping after 1,000 spins (a few microseconds) against this, two threads,
     * medians of six JVM runs taking turns: 128 x 120 x 400 (B is one packing unit) 332 against
     * 152 us (one thread: 183-196), 128 x 300 x 784 758 against 591, 300 x 784 x 128 645 against 529.
     * Finer units (A blocks of 18 rows and B units of 4 panels) on top: 221, 622, 582, no better.
     */
    private static void awaitAll(java.util.concurrent.atomic.AtomicIntegerArray done, int phase, int units) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (done.get(phase) < units) {
            if (System.nanoTime() < spinUntil) Thread.onSpinWait();
            else java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
    }

    /**
     * The five loops over rows {@code [i0, i1)} and columns {@code [j0, j1)} of C, on the calling
     * thread. C is row-major (tiles stored in place, bias per column) or, for a {@code transposed}
     * product, column-major (tiles go through the edge buffer and the bias is per row of this
     * product, which is a column of the caller's C).
     */
    private static void block(int i0, int i1, int j0, int j1, int k,
                              float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                              float[] c, int cOff, int crs, int ccs, boolean transposed, boolean accumulate,
                              float[] bias, boolean relu, int kcb, int mcb, int ncb) {
        // equal blocks rather than full ones and a sliver: 1500 = 2 x 750, not 1024 + 476
        int kcMax = ceilDiv(k, ceilDiv(k, kcb));
        int rows = i1 - i0, cols = j1 - j0;
        int mcMax = roundUp(ceilDiv(rows, ceilDiv(rows, mcb)), MR);
        int ncMax = roundUp(ceilDiv(cols, ceilDiv(cols, ncb)), NR);
        Workspace w = WORKSPACE.get();
        if (w.a.length < mcMax * kcMax + L) w.a = new float[mcMax * kcMax + L];  // + slack for packA's vector copies
        if (w.b.length < kcMax * ncMax) w.b = new float[kcMax * ncMax];
        float[] ap = w.a, bp = w.b, tile = w.tile;
        boolean epilogue = bias != null || relu;
        for (int jc = j0; jc < j1; jc += ncMax) {
            int nc = Math.min(ncMax, j1 - jc);
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                boolean load = accumulate || pc > 0, last = pc + kc == k;
                for (int ic = i0; ic < i1; ic += mcMax) {
                    int mc = Math.min(mcMax, i1 - ic);
                    packA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc, ap);
                    macro(ic, mc, jc, nc, pc, kc, ic == i0, ap, bp, tile, b, bOff, brs, bcs, c, cOff, crs, ccs,
                            transposed, load, last && epilogue, bias, relu);
                }
            }
        }
    }

    /**
     * The two inner loops over one packed A block (rows {@code [ic, ic + mc)}) and one B block
     * (columns {@code [jc, jc + nc)}, steps {@code [pc, pc + kc)}); B's micro-panels are packed on
     * the way when {@code packB}, else they are already in {@code bp}.
     */
    private static void macro(int ic, int mc, int jc, int nc, int pc, int kc, boolean packB, float[] ap, float[] bp,
                              float[] tile, float[] b, int bOff, int brs, int bcs, float[] c, int cOff, int crs, int ccs,
                              boolean transposed, boolean load, boolean epilogue, float[] bias, boolean relu) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr), bo = jr * kc, j = jc + jr;
            if (packB && bcs != 1) packB(b, bOff + pc * brs + j * bcs, brs, bcs, kc, nr, bp, bo);
            else if (packB && jr % (PACK_PANELS * NR) == 0) packBPanels(b, bOff + pc * brs + j, brs, kc, Math.min(PACK_PANELS * NR, nc - jr), bp, bo);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir), ao = ir * kc, i = ic + ir, co = cOff + i * crs + j * ccs;
                if (mr == MR && nr == NR && !transposed) {
                    if (load) loadTile(c, co, crs, tile);
                    GemmMicroKernel.tile(kc, ap, ao, bp, bo, tile, load, NEVER);
                    storeTile(tile, c, co, crs, epilogue, bias, j, relu);
                } else {
                    // an edge (or a transposed C): the same kernel on a padded copy, then only
                    // the real part goes back
                    if (load) copyIn(c, co, crs, ccs, tile, mr, nr);
                    GemmMicroKernel.tile(kc, ap, ao, bp, bo, tile, load, NEVER);
                    if (epilogue) {
                        if (!transposed) epilogue(tile, 0, NR, mr, nr, bias, j, relu);
                        else rowEpilogue(tile, mr, nr, bias, i, relu);
                    }
                    copyOut(tile, c, co, crs, ccs, mr, nr);
                }
            }
        }
    }

    /**
     * Packs rows {@code [0, mc)} x columns {@code [0, kc)} of A (origin {@code src}) into p-major
     * micro-panels of MR rows, zero-padding the last: {@code dst[(i/MR)*kc*MR + p*MR + i%MR]}.
     */
    static void packA(float[] a, int src, int rs, int cs, int mc, int kc, float[] dst) {
        for (int q = 0; q < mc; q += MR) {
            int rows = Math.min(MR, mc - q), d = q * kc, s = src + q * rs;
            if (rows == MR && cs == 1) {
                // A.B and A.B^T: MR rows, each contiguous along p, interleaved; one long loop per
                // row (short strips would pay C2's loop set-up every few elements), and the
                // panel, kc x MR floats, stays in L1 while it is written
                for (int r = 0; r < MR; r++) {
                    int sr = s + r * rs, o = d + r;
                    for (int p = 0; p < kc; p++) dst[o + p * MR] = a[sr + p];
                }
            } else if (rows == MR && rs == 1) {
                // A^T.B: the MR values of step p already sit side by side
                int p = 0;
                // one vector copy per step while a whole vector fits in A; its lanes past MR land
                // in the next step's slots (rewritten next) or the slack at the end of dst
                for (int safe = L >= MR ? Math.min(kc, Math.floorDiv(a.length - s - L, cs) + 1) : 0; p < safe; p++) {
                    FloatVector.fromArray(S, a, s + p * cs).intoArray(dst, d + p * MR);
                }
                for (; p < kc; p++) {
                    int o = d + p * MR, sp = s + p * cs;
                    for (int r = 0; r < MR; r++) dst[o + r] = a[sp + r];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    for (int r = 0; r < MR; r++) dst[d + p * MR + r] = r < rows ? a[s + r * rs + p * cs] : 0f;
                }
            }
        }
    }

    /**
     * Packs rows {@code [0, kc)} x columns {@code [0, nr)} of B (origin {@code src}) into one
     * p-major micro-panel of NR columns at {@code dst[d + p*NR + j]}, zero-padding columns past nr.
     */
    static void packB(float[] b, int src, int rs, int cs, int kc, int nr, float[] dst, int d) {
        if (cs == 1) {
            // A.B and A^T.B: B's rows are contiguous, a panel row is two vector copies
            if (nr == NR) {
                for (int p = 0; p < kc; p++) {
                    int s = src + p * rs, o = d + p * NR;
                    FloatVector.fromArray(S, b, s).intoArray(dst, o);
                    FloatVector.fromArray(S, b, s + L).intoArray(dst, o + L);
                }
            } else {
                VectorMask<Float> m0 = S.indexInRange(0, nr), m1 = S.indexInRange(L, nr);
                for (int p = 0; p < kc; p++) {
                    int s = src + p * rs, o = d + p * NR;
                    FloatVector.fromArray(S, b, s, m0).intoArray(dst, o);
                    FloatVector.fromArray(S, b, s + L, m1).intoArray(dst, o + L);
                }
            }
        } else {
            // A.B^T: B's columns are contiguous along p; each is read once and written down the
            // panel, PACK_STEPS steps at a time so that the part being written (16 KB) stays in
            // L1 while all NR columns pass through it
            if (rs == 1) {
                for (int p0 = 0; p0 < kc; p0 += PACK_STEPS) {
                    int steps = Math.min(PACK_STEPS, kc - p0);
                    for (int j = 0; j < nr; j++) {
                        int sj = src + j * cs + p0, o = d + p0 * NR + j;
                        for (int p = 0; p < steps; p++) dst[o + p * NR] = b[sj + p];
                    }
                }
            } else {
                for (int j = 0; j < nr; j++) {
                    int sj = src + j * cs, o = d + j;
                    for (int p = 0; p < kc; p++) dst[o + p * NR] = b[sj + p * rs];
                }
            }
            for (int j = nr; j < NR; j++) {
                for (int p = 0; p < kc; p++) dst[d + p * NR + j] = 0f;
            }
        }
    }

    /**
     * {@link #packB} of the micro-panels of B's columns {@code [0, cols)} when its rows are
     * contiguous ({@code cs == 1}): each row is read across all of them (256 B for four panels
     * rather than 64 B from each of rows 4 or 8 KB apart), panel q going to
     * {@code dst[d + q*kc*NR ..]}. Packing a 1024 x 1024 B this way, four panels at a time, took
     * 0.54 ms against 0.71 ms (and in one JVM 8.6 ms) panel by panel; 2048 columns, 0.56 against 0.98.
     * Whole products, one thread, medians of six JVM runs of each build taking turns: 1024^3 91.1
     * against 90.5 GFLOPS, 2048^3 88.1 against 87.0; two threads (two runs): 2048^3 175.4 against
     * 173.4; the training shapes 128 x 784 x 300 and 300 x 784 x 128 within the noise.
     */
    static void packBPanels(float[] b, int src, int rs, int kc, int cols, float[] dst, int d) {
        int full = cols / NR;
        for (int p = 0; p < kc; p++) {
            int s = src + p * rs, o = d + p * NR;
            for (int q = 0; q < full; q++) {
                FloatVector.fromArray(S, b, s + q * NR).intoArray(dst, o + q * kc * NR);
                FloatVector.fromArray(S, b, s + q * NR + L).intoArray(dst, o + q * kc * NR + L);
            }
        }
        if (cols > full * NR) packB(b, src + full * NR, rs, 1, kc, cols - full * NR, dst, d + full * kc * NR);
    }

    /** Adds {@code bias[j0 + j]} to column j of a {@code rows x cols} tile and applies ReLU if asked. */
    static void epilogue(float[] c, int co, int ldc, int rows, int cols, float[] bias, int j0, boolean relu) {
        for (int r = 0; r < rows; r++) {
            int o = co + r * ldc;
            for (int j = 0; j < cols; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, cols);
                FloatVector v = FloatVector.fromArray(S, c, o + j, mask);
                if (bias != null) v = v.add(FloatVector.fromArray(S, bias, j0 + j, mask));
                if (relu) v = v.max(0f);
                v.intoArray(c, o + j, mask);
            }
        }
    }

    /** Copies a full register tile of C (row stride {@code ldc}) to {@code t} (row stride NR). */
    private static void loadTile(float[] c, int co, int ldc, float[] t) {
        for (int r = 0; r < MR; r++) {
            FloatVector.fromArray(S, c, co + r * ldc).intoArray(t, r * NR);
            FloatVector.fromArray(S, c, co + r * ldc + L).intoArray(t, r * NR + L);
        }
    }

    /**
     * Copies a full register tile from {@code t} (row stride NR) to C, adding {@code bias[j0 + j]}
     * and applying ReLU on the way when {@code epilogue} (the same operations as {@link #epilogue}).
     */
    private static void storeTile(float[] t, float[] c, int co, int ldc, boolean epilogue, float[] bias, int j0, boolean relu) {
        if (!epilogue) {
            for (int r = 0; r < MR; r++) {
                FloatVector.fromArray(S, t, r * NR).intoArray(c, co + r * ldc);
                FloatVector.fromArray(S, t, r * NR + L).intoArray(c, co + r * ldc + L);
            }
            return;
        }
        for (int r = 0; r < MR; r++) {
            FloatVector v0 = FloatVector.fromArray(S, t, r * NR), v1 = FloatVector.fromArray(S, t, r * NR + L);
            if (bias != null) {
                v0 = v0.add(FloatVector.fromArray(S, bias, j0));
                v1 = v1.add(FloatVector.fromArray(S, bias, j0 + L));
            }
            if (relu) {
                v0 = v0.max(0f);
                v1 = v1.max(0f);
            }
            v0.intoArray(c, co + r * ldc);
            v1.intoArray(c, co + r * ldc + L);
        }
    }

    /** The epilogue of a transposed product: {@code bias[i0 + r]} on row r of the tile. */
    private static void rowEpilogue(float[] tile, int rows, int cols, float[] bias, int i0, boolean relu) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                float v = tile[r * NR + j];
                if (bias != null) v += bias[i0 + r];
                if (relu) v = Math.max(v, 0f);
                tile[r * NR + j] = v;
            }
        }
    }

    private static void copyIn(float[] c, int co, int crs, int ccs, float[] tile, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            if (ccs == 1) System.arraycopy(c, co + r * crs, tile, r * NR, cols);
            else for (int j = 0; j < cols; j++) tile[r * NR + j] = c[co + r * crs + j * ccs];
        }
    }

    private static void copyOut(float[] tile, float[] c, int co, int crs, int ccs, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            if (ccs == 1) System.arraycopy(tile, r * NR, c, co + r * crs, cols);
            else for (int j = 0; j < cols; j++) c[co + r * crs + j * ccs] = tile[r * NR + j];
        }
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    static int roundUp(int x, int multiple) {
        return ceilDiv(x, multiple) * multiple;
    }
}
