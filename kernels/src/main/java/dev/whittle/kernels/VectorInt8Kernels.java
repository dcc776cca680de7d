package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Kernels} on the Vector API. Two paths, which give the same bits because both are
 * exact:
 *
 * <ul>
 * <li><b>Few activation rows (GEMV)</b>: the weights are streamed once, a byte each, and the dot
 *     products run in 16-bit lanes ({@link Int8Gemv}).
 * <li><b>Many activation rows (GEMM)</b>: integer products in registers cost several
 *     instructions per float FMA, so the products run on the FP32 GEMM's micro-kernel
 *     ({@link GemmMicroKernel}) inside {@link Gemm}'s loops, the int8 operands converted to float
 *     as they are packed. It is still exact integer arithmetic: every product is an integer of
 *     magnitude at most 2^14 and every float sum covers at most {@link #K_CHUNK} of them (at most
 *     2^24, which a float holds exactly), so no FMA ever rounds; longer rows add chunks as ints.
 *     Each 6 x 16 tile is finished while in L1: offset by the bias and zero point and
 *     requantized in double lanes (exact there, see {@link Int8Epilogue}).
 * </ul>
 *
 * <p>Measured (AMD EPYC Zen 3, AVX2, one thread, a shared machine):
 * <ul>
 * <li>GEMM 1024 x 1024 x 256: float copies plus {@code gemmNT} plus a separate epilogue took
 *     1.4x the FP32 GEMM (11.3 against 8.0 ms, CPU time); packing int8 directly and finishing
 *     each tile in L1, 1.25-1.35x; with the per-channel offset and ints clamped before the double
 *     requantization (Java's double min/max compile to compares and blends on AVX2), 1.0-1.25x.
 *     The C block's rows are padded by 16 floats: 1024 floats apart they fell in the same L1
 *     sets (the first fused version ran at 1.5x the FP32 time). The epilogue is a fifth of the
 *     remaining time (JFR samples: 27 in it against 88 in the micro-kernel; later 285 against
 *     1032). Why, from its disassembly: Java's float-to-int and double-to-int conversions keep
 *     their NaN and overflow results, which AVX2's {@code vcvttps2dq}/{@code vcvttpd2dq} do not
 *     give, so C2 wraps each in about a dozen compares and blends, and the upper half's
 *     int-to-double conversion computes its permutation at run time: about 80 instructions per
 *     8 outputs, 1.2 ms per million in a standalone loop. A floor by adding 2^52 (rounding to
 *     an integer in the low mantissa bits) and taking one off where that rounded up was 1.5x
 *     faster in a standalone loop but no faster in the GEMM (0.97-1.01x), the int conversion of
 *     the float sums and the generic tile loop still around it.
 * <li>What did help, measured side by side with both jar orders: a K of one chunk finished
 *     straight from the micro-kernel's tile instead of its copy in the C block (1.06-1.08x);
 *     the requantization done from the float sums in doubles with no Java conversion, a rounding
 *     nudge making round-to-nearest equal the twin's floor ({@link Int8Epilogue}, 1.08-1.09x);
 *     the whole tile in one call with its shape constant (1.06-1.07x). Without any epilogue the
 *     GEMM ran 1.27x faster than before these changes, and 1.16x after the first two; in
 *     {@code whittle bench kernels} it went from 0.78-0.82x this project's FP32 SGEMM of its
 *     shape to 0.92-1.03x. Packing A (int8 to float, scalar) is 2% of the time.
 * </ul>
 */
final class VectorInt8Kernels implements Int8Kernels {

    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int MR = GemmMicroKernel.MR;
    private static final int NR = GemmMicroKernel.NR;
    /** A step index the micro-kernel never reaches (see {@link GemmMicroKernel#tile}). */
    private static final int NEVER = -1;
    /** Floats past each row of the C block, so its rows do not fall 4 KB apart (the same L1 sets). */
    private static final int LDC_PAD = 16;

    /**
     * From this many activation rows on, the float-GEMM path is faster. Measured on lenet-300-100's
     * first layer (300 x 784), one thread: batch 16 took 287 us on the GEMV path and 529 us on
     * the GEMM path, batch 32 454 and 729 us, batch 64 1186 and 1036 us.
     */
    static final int GEMM_ROWS = 48;
    /** Depth of one exact float product: 1024 * 2^14 = 2^24, the last integer a float holds exactly. */
    static final int K_CHUNK = 1024;
    /** Floats of packed weights one block of channels may hold (4 MB). */
    private static final int FLOAT_BLOCK = 1 << 20;

    private static final class Workspace {
        float[] ap = new float[0];
        float[] bp = new float[0];
        float[] cf = new float[0];
        int[] acc = new int[0];
        /** The micro-kernel's contiguous tile (see {@link GemmMicroKernel#tile}). */
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /**
     * Four rows at a time, eight weights a step: eight bytes widened to eight floats in registers,
     * one FMA with the shared slice of x per row. Against the FP32 GEMV of the same weights stored
     * as floats ({@link FloatKernels#gemv}), medians of 40,000 alternating calls: 72 x 250 1.80-1.87
     * against 2.15-2.20 us, 50 x 72 0.44-0.64 against 0.51-0.83, 120 x 400 about even (3.96-4.02
     * against 3.90-3.91).
     */
    @Override
    public void gemvWidened(int n, int k, byte[] w, int wOff, float[] x, int xOff, float[] y, int yOff) {
        Int8Kernels.checkWidened(n, k, w, wOff, x, xOff, y, yOff);
        int bound = F.loopBound(k), r = 0;
        for (; r + 4 <= n; r += 4) {
            int o0 = wOff + r * k, o1 = o0 + k, o2 = o1 + k, o3 = o2 + k;
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            int p = 0;
            for (; p < bound; p += F.length()) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + p);
                c0 = widened(w, o0 + p).fma(xv, c0);
                c1 = widened(w, o1 + p).fma(xv, c1);
                c2 = widened(w, o2 + p).fma(xv, c2);
                c3 = widened(w, o3 + p).fma(xv, c3);
            }
            float s0 = c0.reduceLanes(VectorOperators.ADD), s1 = c1.reduceLanes(VectorOperators.ADD);
            float s2 = c2.reduceLanes(VectorOperators.ADD), s3 = c3.reduceLanes(VectorOperators.ADD);
            for (; p < k; p++) {
                float xp = x[xOff + p];
                s0 = Math.fma(w[o0 + p], xp, s0);
                s1 = Math.fma(w[o1 + p], xp, s1);
                s2 = Math.fma(w[o2 + p], xp, s2);
                s3 = Math.fma(w[o3 + p], xp, s3);
            }
            y[yOff + r] = s0;
            y[yOff + r + 1] = s1;
            y[yOff + r + 2] = s2;
            y[yOff + r + 3] = s3;
        }
        for (; r < n; r++) {
            int o = wOff + r * k;
            FloatVector c = FloatVector.zero(F);
            int p = 0;
            for (; p < bound; p += F.length()) c = widened(w, o + p).fma(FloatVector.fromArray(F, x, xOff + p), c);
            float s = c.reduceLanes(VectorOperators.ADD);
            for (; p < k; p++) s = Math.fma(w[o + p], x[xOff + p], s);
            y[yOff + r] = s;
        }
    }

    /** Eight int8 weights at {@code w[at]} as eight floats. */
    private static FloatVector widened(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(B64, w, at).convertShape(VectorOperators.B2F, F, 0);
    }

    @Override
    public void gemm(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, Int8Requantization rq, byte[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, rq.channels(), y.length, yOff);
        run(m, x, xOff, w, new Int8Epilogue(Int8Epilogue.Out.INT8, w, xZeroPoint, rq, null, null, false, y, null, null, yOff));
    }

    @Override
    public void gemmInt32(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, int[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        run(m, x, xOff, w, new Int8Epilogue(Int8Epilogue.Out.INT32, w, xZeroPoint, null, bias, null, false, null, y, null, yOff));
    }

    @Override
    public void gemmFloat(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, float[] scales,
                          boolean relu, float[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, scales.length, y.length, yOff);
        run(m, x, xOff, w, new Int8Epilogue(Int8Epilogue.Out.FLOAT, w, xZeroPoint, null, bias, scales, relu, null, null, y, yOff));
    }

    private static void run(int m, byte[] x, int xOff, Int8Matrix w, Int8Epilogue e) {
        if (m == 0) return;
        if (m < GEMM_ROWS) Int8Gemv.gemv(m, x, xOff, w, e);
        else gemmPacked(m, x, xOff, w, e);
    }

    // ---- many rows: exact products on the FP32 GEMM micro-kernel ---------------------------------

    /**
     * The loops of {@link Gemm} (Goto and van de Geijn 2008) around its register tile, with the
     * int8 operands converted to float while they are packed and the epilogue run on each tile
     * as it leaves the micro-kernel, while it is in L1:
     *
     * <pre>
     *   for jc over N by nc           B block (K x nc floats, all of K) packed once, at the first ic
     *     for ic over M by MC
     *       for pc over K by KC       pack A (MC x kc) from the int8 rows
     *         for jr, ir              {@link GemmMicroKernel#tile}: 6 x 16 sums into the C block
     *                                 last K block of a 1024-chunk: the tile to int (+ the earlier
     *                                 chunks' int sums); last chunk: requantize / scale, store
     * </pre>
     *
     * Rows of x are shared out between the threads in whole tiles, each packing its own B block; or,
     * with fewer rows than channels, the channels in whole panels, each packing its own A.
     */
    private static void gemmPacked(int m, byte[] x, int xOff, Int8Matrix w, Int8Epilogue e) {
        int n = w.rows, k = w.cols;
        int kc = Gemm.ceilDiv(k, Gemm.ceilDiv(k, Gemm.KC));
        int nc = Math.min(Gemm.roundUp(n, NR), Math.max(NR, FLOAT_BLOCK / Gemm.roundUp(k, kc) / NR * NR));
        if ((long) m * n * k < Gemm.PARALLEL_WORK) {
            blocks(x, xOff, w, e, 0, m, 0, n, kc, nc);
        } else if (m < n && Gemm.ceilDiv(n, NR) >= 2 * Parallel.threads()) {
            // fewer rows than channels (a batch through a fully connected layer): the channels are
            // shared out, so each thread widens only its own weights and packs the small A again
            // (split by rows, every thread widened all the weights). 64 x 300 x 784 on two threads,
            // separate JVMs taking turns: medians 324 against 337 us over ten pairs (per-pair
            // median 1.085) and 335 against 358 over five; the host stalled some runs 15-fold
            Parallel.forRange(n, NR, (c0, c1) -> blocks(x, xOff, w, e, 0, m, c0, c1, kc, nc));
        } else {
            Parallel.forRange(m, MR, (from, to) -> blocks(x, xOff, w, e, from, to, 0, n, kc, nc));
        }
    }

    /**
     * Rows {@code [i0, i1)} x channels {@code [j0, j1)} of the product on the calling thread
     * ({@code j0} a multiple of NR), in B blocks of {@code nc} channels packed at their first A block.
     */
    private static void blocks(byte[] x, int xOff, Int8Matrix w, Int8Epilogue e, int i0, int i1, int j0, int j1,
                               int kc, int nc) {
        int k = w.cols;
        Workspace ws = WORKSPACE.get();
        int kp = Gemm.roundUp(k, kc), mc = Gemm.roundUp(Math.min(Gemm.MC, i1 - i0), MR);
        if (ws.ap.length < mc * kc) ws.ap = new float[mc * kc];
        if (ws.bp.length < kp * nc) ws.bp = new float[kp * nc];
        int ldc = nc + LDC_PAD;
        if (ws.cf.length < mc * ldc) ws.cf = new float[mc * ldc];
        if (k > K_CHUNK && ws.acc.length < mc * ldc) ws.acc = new int[mc * ldc];
        for (int jc = j0; jc < j1; jc += nc) {
            int jn = Math.min(nc, j1 - jc);
            for (int ic = i0; ic < i1; ic += mc) {
                block(x, xOff, w, e, ws, ic, Math.min(mc, i1 - ic), jc, jn, nc, kc, ic == i0);
            }
        }
    }

    /** Rows {@code [i0, i0 + im)} x channels {@code [j0, j0 + jn)}, all of K. */
    private static void block(byte[] x, int xOff, Int8Matrix w, Int8Epilogue e, Workspace ws, int i0, int im,
                              int j0, int jn, int nc, int kcMax, boolean packB) {
        int k = w.cols, ldc = nc + LDC_PAD;
        float[] ap = ws.ap, bp = ws.bp, cf = ws.cf;
        int[] acc = ws.acc;
        // a float sum runs over at most K_CHUNK terms (exact): a chunk of whole K blocks
        int chunk = K_CHUNK / kcMax;
        for (int pc = 0, b = 0; pc < k; pc += kcMax, b++) {
            int kc = Math.min(kcMax, k - pc);
            boolean last = pc + kc == k, fresh = b % chunk == 0, flush = last || (b + 1) % chunk == 0, first = b < chunk;
            packA(x, xOff + i0 * k + pc, k, im, kc, ap);
            for (int jr = 0; jr < jn; jr += NR) {
                int bo = pc * nc + jr * kc;
                if (packB) packB(w, j0 + jr, pc, kc, bp, bo);
                for (int ir = 0; ir < im; ir += MR) {
                    int co = ir * ldc + jr;
                    // the micro-kernel works on a contiguous tile: C's rows go in and come back out
                    float[] t = ws.tile;
                    if (!fresh) for (int r = 0; r < MR; r++) System.arraycopy(cf, co + r * ldc, t, r * NR, NR);
                    GemmMicroKernel.tile(kc, ap, ir * kc, bp, bo, t, !fresh, NEVER);
                    int mr = Math.min(MR, im - ir), nr = Math.min(NR, jn - jr);
                    if (last && first) {
                        // one chunk of K: the sums are final, finished straight from the tile
                        if (nr == NR && e.finishesWholeTiles()) e.finishWholeTile(t, i0 + ir, mr, j0 + jr);
                        else finishTile(e, t, 0, NR, null, i0 + ir, j0 + jr, mr, nr);
                        continue;
                    }
                    for (int r = 0; r < MR; r++) System.arraycopy(t, r * NR, cf, co + r * ldc, NR);
                    if (!flush) continue;
                    if (last) finishTile(e, cf, co, ldc, acc, i0 + ir, j0 + jr, mr, nr);
                    else addTile(cf, co, ldc, acc, first, mr, nr);
                }
            }
        }
    }

    /** {@code acc (+)= (int) cf} over one tile, for the next chunk of K. */
    private static void addTile(float[] cf, int co, int ldc, int[] acc, boolean first, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            for (int c = 0; c < nr; c++) {
                int at = co + r * ldc + c;
                acc[at] = (int) cf[at] + (first ? 0 : acc[at]);
            }
        }
    }

    /** Runs the epilogue on one tile of exact sums (plus the earlier chunks' {@code acc}, when not null). */
    private static void finishTile(Int8Epilogue e, float[] cf, int co, int ldc, int[] acc, int i, int j, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            int c = 0, o = co + r * ldc;
            for (; c + F.length() <= nr; c += F.length()) e.finish8(cf, o + c, acc, j + c, e.yOff + (i + r) * e.n + j + c);
            for (; c < nr; c++) e.put(i + r, j + c, (int) cf[o + c] + (acc == null ? 0 : acc[o + c]));
        }
    }

    /**
     * Packs rows {@code [0, rows)} x columns {@code [0, kc)} of the int8 activations (origin
     * {@code src}, rows {@code k} apart) as floats into {@link Gemm#packA}'s order: p-major
     * micro-panels of MR rows, the last padded with zeros.
     */
    private static void packA(byte[] x, int src, int k, int rows, int kc, float[] dst) {
        for (int q = 0; q < rows; q += MR) {
            int d = q * kc, valid = Math.min(MR, rows - q);
            for (int r = 0; r < MR; r++) {
                int o = d + r, s = src + (q + r) * k;
                if (r < valid) for (int p = 0; p < kc; p++) dst[o + p * MR] = x[s + p];
                else for (int p = 0; p < kc; p++) dst[o + p * MR] = 0f;
            }
        }
    }

    /**
     * Packs weight rows {@code [j, j + NR)} ({@code j} a multiple of {@link Int8Matrix#PANEL}),
     * columns {@code [p0, p0 + kc)}, as floats into one micro-panel of {@link Gemm#packB}'s order
     * ({@code dst[d + p*NR + c]}): from {@link Int8Matrix#panels()}, NR contiguous bytes widened
     * per column. Rows past the matrix's last are the panels' zeros.
     */
    private static void packB(Int8Matrix w, int j, int p0, int kc, float[] dst, int d) {
        byte[] panels = w.panels();
        for (int p = 0, s = ((j / NR) * w.cols + p0) * NR; p < kc; p++, s += NR) {
            for (int c = 0; c < NR; c += F.length()) widened(panels, s + c).intoArray(dst, d + p * NR + c);
        }
    }

}
