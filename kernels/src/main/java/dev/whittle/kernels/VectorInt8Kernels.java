package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Kernels} on the Vector API. Two paths, which give the same bits because both are
 * exact:
 *
 * <ul>
 * <li><b>Few activation rows (GEMV)</b>: the weights are streamed once, a byte each, and the dot
 *     products run in 16-bit lanes. The Vector API has no integer dot product (no
 *     {@code vpmaddwd}/{@code vpdpbusd}), and its widening conversions ({@code convertShape}
 *     B2S, S2I) turned out slow on AVX2, so everything is done with masks and shifts on
 *     reinterpreted vectors. {@link Int8Matrix} holds even weights + 128:
 *     <pre>
 *   32 weight bytes read as 16 shorts s:       s = w[2j+1] * 256 + (w[2j] + 128)
 *   even' = s AND 0x00FF  (32-bit AND)         w[2j] + 128, in [1, 255]
 *   odd   = s >> 8        (16-bit shift)       w[2j+1]
 *   v = even' * xEven + odd * xOdd + c         16-bit, wrapping; c = 2^15 - 128 * xEven (per call)
 *     = q + 2^15 mod 2^16, q the pair sum      |q| <= 2 * 127 * 128 = 32512: v is q + 2^15 exactly
 *   v read as 8 ints:                          v = (q[2i+1] + 2^15) * 2^16 + (q[2i] + 2^15)
 *   all += v;  hi += v >>> 16                  (the int adds wrap; the final sum is exact mod 2^32)
 *   sum q = hi + (all - hi * 2^16) - 2^15 * (16 lanes * steps)
 *     </pre>
 *     One load, one AND, one shift, two multiplies (their activation operands read from memory)
 *     and five adds per 32 weights. The activations are split into even and odd shorts, and the
 *     corrections c computed, once per call. Weights must be in [-127, 127] for the pair sum.
 * <li><b>Many activation rows (GEMM)</b>: integer products in registers cost several
 *     instructions per float FMA, so the products run on the FP32 GEMM's micro-kernel
 *     ({@link GemmMicroKernel}) inside {@link Gemm}'s loops, the int8 operands converted to float
 *     as they are packed. It is still exact integer arithmetic: every product is an integer of
 *     magnitude at most 2^14 and every float sum covers at most {@link #K_CHUNK} of them (at most
 *     2^24, which a float holds exactly), so no FMA ever rounds; longer rows add chunks as ints.
 *     Each 6 x 16 tile is finished while in L1: converted to int, offset by the bias and zero
 *     point, and requantized in double lanes (exact there, see {@link #requantizeDouble}).
 * </ul>
 *
 * <p>Measured earlier (AMD EPYC Zen 3, AVX2, one thread, a shared machine: thread-CPU-time
 * medians of 30 calls, IntKernelBenchmark's {@code dot*} variants over the same 4096 x 4096
 * weights):
 * <pre>
 *   bytes widened to shorts, multiplied, widened to ints, 8 at a time (Lucene's 256-bit form)  2088 us
 *   16 bytes widened (B2S), each product vector widened (S2I)                                  2292 us
 *   as above, two products summed as shorts before widening (S2I)                              1718 us
 *   bytes split by shifts instead of B2S, pair sum widened with S2I                            2414 us
 *   bytes split by shifts, pair sum widened lazily by shifts                                   1277 us
 *   dequantise in registers: 8 bytes to floats (B2F), FMA with float activations (exact)      1798 us
 *   plain short[] loop over pre-widened weights (C2 auto-vectorisation, 2x the bytes)        10241 us
 *   plain byte[] loop                                                                        11878 us
 *   (OpenBLAS FP32 SGEMV, numpy 2.4.6 / OpenBLAS 0.3.31, same minutes: 3209 and 3314 us)
 * </pre>
 * Measured for this version (same machine, its other core mostly busy with other builds, so
 * figures drift by 30% from minute to minute; thread-CPU-time medians, 16 M weights):
 * <ul>
 * <li>The claim that the shift kernel ran at streaming speed did not hold: a plain loop adding
 *     the 16 MB as 256-bit vectors took 370-700 us (23-45 GB/s, the L3 holds most of it), the
 *     shift kernel 1100-1500 us, and 750-1050 us on 256 KB of weights that stay in L2: it is
 *     bound by instructions, not memory. Its disassembly showed why: C2 keeps 16-bit shift
 *     counts in a register and reloads it ({@code vmovd}) before most 16-bit shifts.
 * <li>Even weights by 32-bit AND and 16-bit subtraction instead of two 16-bit shifts: 580-870
 *     against 770-1160 us on the L2-sized weights, interleaved JVMs. Folding the subtraction and
 *     the XOR bias into the per-call corrections removed two more instructions per step: in
 *     {@code whittle bench kernels} the GEMV went from 1.9-2.1x to 2.6-3.1x OpenBLAS SGEMV.
 * <li>Tried and dropped: two rows per pass sharing the activation loads (slower again: 2138
 *     against 1526 us at 16 MB); all adds in 16 bits with a second sum of {@code q >> 8} to
 *     recover the carries (3 instead of 4 widening instructions, but 1100-1270 against 630-850
 *     us: one more 16-bit shift); even and odd both by AND/shift/subtract (no gain).
 * <li>Two rows far apart (j and j + n/2), each with its own activation loads ({@link #dot2}):
 *     the 16 MB matrix does not stay in this shared host's L3 (a plain loop reads 16 MB at
 *     38 GB/s, 8 MB at 54), and one stream from memory is slower than two. Side by side in one
 *     JVM (two builds, so 32 MB of weights): 1.23-1.24x one row at a time; in a standalone loop,
 *     1.1-1.3x at 16 MB, no change on weights in L2 (so smaller matrices keep one row at a time);
 *     adjacent rows (4 KB apart), or four rows: no further gain.
 * <li>The GEMV's sums finished 8 channels at a time by the GEMM's vector epilogue rather than
 *     one by one, and one horizontal sum per row instead of two: 1.03-1.07x on 4096 x 4096,
 *     within the noise on 300 x 784.
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
 *     8 outputs, 1.2 ms per million in a standalone loop. Tried: the floor taken by adding 2^52
 *     (which rounds to an integer held in the low mantissa bits) and taking one off where that
 *     rounded up: exact (the twin tests hold), 1.5x faster in the standalone loop, but no
 *     faster in the GEMM itself (0.97-1.01x side by side), so not kept. (Exact sums below 2^22,
 *     K chunks of 256, could likewise skip the float-to-int fix-ups.)
 * </ul>
 */
final class VectorInt8Kernels implements Int8Kernels {

    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final DoubleVector HALF_UP = DoubleVector.broadcast(D, 256.5);
    private static final int MR = GemmMicroKernel.MR;
    private static final int NR = GemmMicroKernel.NR;
    /** A step index the micro-kernel never reaches (see {@link GemmMicroKernel#tile}). */
    private static final int NEVER = -1;
    /** Floats past each row of the C block, so its rows do not fall 4 KB apart (the same L1 sets). */
    private static final int LDC_PAD = 16;
    /** Shorts per vector. */
    private static final int SL = S.length();
    /** Weights per inner-loop step: one 256-bit load, 16 even and 16 odd. */
    private static final int STEP = 2 * SL;
    /** Flips a 16-bit pair sum into unsigned range, so its int halves can be summed apart. */
    private static final short BIAS = (short) 0x8000;
    /** The low byte of each 16-bit lane: the even weight, stored + 128 ({@link Int8Matrix}). */
    private static final int LOW_BYTES = 0x00FF00FF;
    /** Activation shorts per step: 16 even, 16 odd, 16 corrections. */
    private static final int X_STEP = 3 * SL;

    /**
     * From this many activation rows on, the float-GEMM path is faster. Measured on lenet-300-100's
     * first layer (300 x 784), one thread: batch 16 took 287 us on the GEMV path and 529 us on
     * the GEMM path, batch 32 454 and 729 us, batch 64 1186 and 1036 us.
     */
    static final int GEMM_ROWS = 48;
    /** Depth of one exact float product: 1024 * 2^14 = 2^24, the last integer a float holds exactly. */
    static final int K_CHUNK = 1024;
    /** Channels whose GEMV sums are finished together (vector epilogue, 8 at a time). */
    private static final int FINISH_RUN = 64;
    /** Weights from this many bytes on (twice this core's L2) are streamed two rows at a time ({@link #dot2}). */
    private static final long PAIR_BYTES = 1L << 20;
    /** Below this many multiply-adds a product is not worth handing to a second thread. */
    private static final long PARALLEL_WORK = 1L << 17;
    /** Floats of packed weights one block of channels may hold (4 MB). */
    private static final int FLOAT_BLOCK = 1 << 20;

    private static final class Workspace {
        short[] xs = new short[0];
        float[] ap = new float[0];
        float[] bp = new float[0];
        float[] cf = new float[0];
        int[] acc = new int[0];
        /** The GEMV's dot products, runs of {@link #FINISH_RUN} per activation row. */
        int[] dots = new int[0];
        /** The micro-kernel's contiguous tile (see {@link GemmMicroKernel#tile}). */
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private enum Out { INT8, INT32, FLOAT }

    /** What happens to {@code sum_p x[i][p] * W[j][p]} once it is known: one per call, final, so it inlines. */
    private static final class Epilogue {
        final Out out;
        final int n;
        final int zx;
        final int[] rowSums;
        final Int8Requantization rq;
        final int[] bias;
        final float[] scales;
        final boolean relu;
        final byte[] y8;
        final int[] y32;
        final float[] yf;
        final int yOff;
        /** The multipliers as doubles, {@code multiplier / 2^shift}, when every shift allows it (else null). */
        double[] real;
        /** Per channel, the accumulators (bias added) beyond which the output is clamped: clamping them first changes nothing. */
        int[] accLo, accHi;
        /** Per channel, {@code bias[j] - zx * rowSums[j]} (int32, wrapping as the twin's sums do): what a dot product gets added. */
        int[] offset;

        Epilogue(Out out, Int8Matrix w, int zx, Int8Requantization rq, int[] bias, float[] scales, boolean relu,
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
        }

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
    }

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
        run(m, x, xOff, w, new Epilogue(Out.INT8, w, xZeroPoint, rq, null, null, false, y, null, null, yOff));
    }

    @Override
    public void gemmInt32(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, int[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        run(m, x, xOff, w, new Epilogue(Out.INT32, w, xZeroPoint, null, bias, null, false, null, y, null, yOff));
    }

    @Override
    public void gemmFloat(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, float[] scales,
                          boolean relu, float[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, scales.length, y.length, yOff);
        run(m, x, xOff, w, new Epilogue(Out.FLOAT, w, xZeroPoint, null, bias, scales, relu, null, null, y, yOff));
    }

    private static void run(int m, byte[] x, int xOff, Int8Matrix w, Epilogue e) {
        if (m == 0) return;
        if (m < GEMM_ROWS) gemv(m, x, xOff, w, e);
        else gemmPacked(m, x, xOff, w, e);
    }

    // ---- few rows: 16-bit dot products -----------------------------------------------------------

    private static void gemv(int m, byte[] x, int xOff, Int8Matrix w, Epilogue e) {
        int n = w.rows, k = w.cols, stride = w.stride;
        int depth = Quantization.roundUp(k, STEP); // <= stride; the padding is zeros on both sides
        int span = stride / STEP * X_STEP;
        Workspace ws = WORKSPACE.get();
        if (ws.xs.length < m * span) ws.xs = new short[m * span];
        short[] xs = ws.xs;
        // widened and split once per call: block of 32 -> [16 even | 16 odd | 16 corrections],
        // zeros past k; the correction 2^15 - 128 * even both removes the even weights' offset
        // of 128 and flips the pair sum into unsigned range (16-bit arithmetic, wrapping)
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * k, at = i * span, p = 0, b = at;
            for (; p + STEP <= k; p += STEP, b += X_STEP) {
                for (int t = 0; t < SL; t++) {
                    int xe = x[xi + p + 2 * t];
                    xs[b + t] = (short) xe;
                    xs[b + SL + t] = x[xi + p + 2 * t + 1];
                    xs[b + 2 * SL + t] = (short) (BIAS - Int8Matrix.EVEN_BIAS * xe);
                }
            }
            for (; p < stride; p += STEP, b += X_STEP) {
                for (int t = 0; t < SL; t++) {
                    int even = p + 2 * t;
                    int xe = even < k ? x[xi + even] : 0;
                    xs[b + t] = (short) xe;
                    xs[b + SL + t] = even + 1 < k ? x[xi + even + 1] : 0;
                    xs[b + 2 * SL + t] = (short) (BIAS - Int8Matrix.EVEN_BIAS * xe);
                }
            }
        }
        byte[] wd = w.data;
        prepare(e);
        // weights of a megabyte or more: rows j and j + half side by side, two streams from
        // memory far apart ({@link #dot2}); weights that stay in L2 gain nothing from it. The
        // sums of a run of FINISH_RUN channels are finished together, 8 channels a vector.
        Parallel.RangeTask rows = (long) n * stride < PAIR_BYTES ? (from, to) -> {
            int[] dots = dots(m);
            for (int j0 = from; j0 < to; j0 += FINISH_RUN) {
                int jn = Math.min(FINISH_RUN, to - j0);
                for (int j = j0; j < j0 + jn; j++) {
                    for (int i = 0; i < m; i++) dots[i * FINISH_RUN + j - j0] = dot(wd, j * stride, xs, i * span, depth);
                }
                for (int i = 0; i < m; i++) finishRun(e, dots, i * FINISH_RUN, i, j0, jn);
            }
        } : (from, to) -> {
            int[] dots = dots(2 * m);
            int half = (to - from) / 2, far = m * FINISH_RUN;
            for (int j0 = from; j0 < from + half; j0 += FINISH_RUN) {
                int jn = Math.min(FINISH_RUN, from + half - j0);
                for (int j = j0; j < j0 + jn; j++) {
                    for (int i = 0; i < m; i++) {
                        long both = dot2(wd, j * stride, (j + half) * stride, xs, i * span, depth);
                        dots[i * FINISH_RUN + j - j0] = (int) both;
                        dots[far + i * FINISH_RUN + j - j0] = (int) (both >> 32);
                    }
                }
                for (int i = 0; i < m; i++) {
                    finishRun(e, dots, i * FINISH_RUN, i, j0, jn);
                    finishRun(e, dots, far + i * FINISH_RUN, i, j0 + half, jn);
                }
            }
            for (int j = from + 2 * half; j < to; j++) {
                for (int i = 0; i < m; i++) e.put(i, j, dot(wd, j * stride, xs, i * span, depth));
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forRange(n, 1, rows);
    }

    /** This thread's buffer for {@code rows} runs of {@link #FINISH_RUN} dot products. */
    private static int[] dots(int rows) {
        Workspace ws = WORKSPACE.get();
        if (ws.dots.length < rows * FINISH_RUN) ws.dots = new int[rows * FINISH_RUN];
        return ws.dots;
    }

    /** The epilogue of activation row i, channels {@code [j0, j0 + jn)}, from their sums at {@code dots[at..]}. */
    private static void finishRun(Epilogue e, int[] dots, int at, int i, int j0, int jn) {
        int c = 0;
        for (; c + F.length() <= jn; c += F.length()) finish8(e, null, at + c, dots, j0 + c, e.yOff + i * e.n + j0 + c);
        for (; c < jn; c++) e.put(i, j0 + c, dots[at + c]);
    }

    /**
     * One row's dot product, the steps drawn in the class comment. One row at a time measured
     * faster than two or four adjacent rows sharing the activation loads (more registers live);
     * {@link #dot2} runs two rows far apart, and this one the odd row left over.
     * Written out by hand: a helper method returning a vector is not always inlined by C2, and a
     * vector that crosses a real call is boxed, a hundredfold slower.
     */
    private static int dot(byte[] w, int o, short[] xs, int xo, int depth) {
        IntVector all = IntVector.zero(I), hi = all;
        // both indices linear in the one loop counter: with a second induction variable for the
        // activations, C2 kept two range checks per step (4-8% slower, two builds in one JVM)
        for (int t = 0, steps = depth / STEP; t < steps; t++) {
            int xb = xo + t * X_STEP;
            ShortVector s = ByteVector.fromArray(B, w, o + t * STEP).reinterpretAsShorts();
            // even weight + 128: the low byte, masked by a 32-bit AND (C2 keeps 16-bit shift
            // counts in a register it reloads every step; an AND takes none); its offset and the
            // bias come back in one add of the precomputed corrections
            IntVector v = s.reinterpretAsInts().and(LOW_BYTES).reinterpretAsShorts().mul(ShortVector.fromArray(S, xs, xb))
                    .add(s.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(S, xs, xb + SL)))
                    .add(ShortVector.fromArray(S, xs, xb + 2 * SL)).reinterpretAsInts();
            all = all.add(v);
            hi = hi.add(v.lanewise(VectorOperators.LSHR, 16));
        }
        return unbias(all, hi, depth / STEP);
    }

    /**
     * {@link #dot} of two rows at once, {@code o} in the low half of the result and {@code o2} in
     * the high half: the same steps, each row with its own loads of the activations. The two rows
     * are far apart in memory, so two streams of weights are in flight; a 16 MB matrix, which
     * the L3 of this shared host holds only in part, streamed 1.1-1.3x faster than one row at a
     * time (adjacent rows: no gain).
     */
    private static long dot2(byte[] w, int o, int o2, short[] xs, int xo, int depth) {
        IntVector all = IntVector.zero(I), hi = all, all2 = all, hi2 = all;
        for (int t = 0, steps = depth / STEP; t < steps; t++) {
            int xb = xo + t * X_STEP;
            ShortVector s = ByteVector.fromArray(B, w, o + t * STEP).reinterpretAsShorts();
            IntVector v = s.reinterpretAsInts().and(LOW_BYTES).reinterpretAsShorts().mul(ShortVector.fromArray(S, xs, xb))
                    .add(s.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(S, xs, xb + SL)))
                    .add(ShortVector.fromArray(S, xs, xb + 2 * SL)).reinterpretAsInts();
            all = all.add(v);
            hi = hi.add(v.lanewise(VectorOperators.LSHR, 16));
            ShortVector s2 = ByteVector.fromArray(B, w, o2 + t * STEP).reinterpretAsShorts();
            IntVector v2 = s2.reinterpretAsInts().and(LOW_BYTES).reinterpretAsShorts().mul(ShortVector.fromArray(S, xs, xb))
                    .add(s2.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(S, xs, xb + SL)))
                    .add(ShortVector.fromArray(S, xs, xb + 2 * SL)).reinterpretAsInts();
            all2 = all2.add(v2);
            hi2 = hi2.add(v2.lanewise(VectorOperators.LSHR, 16));
        }
        int steps = depth / STEP;
        int first = unbias(all, hi, steps), second = unbias(all2, hi2, steps);
        return ((long) second << 32) | (first & 0xFFFFFFFFL);
    }

    /**
     * The sum of the pair sums from the lane totals: per lane, {@code hi} sums the biased high
     * shorts and {@code all - hi * 2^16} the biased low ones (mod 2^32, which is exact for an int
     * result), so {@code all - hi * 2^16 + hi} summed over the lanes (one horizontal sum, not two:
     * it is linear mod 2^32) is the sum of all {@code 16 * steps} shorts, each of which carried a
     * bias of 2^15.
     */
    private static int unbias(IntVector all, IntVector hi, int steps) {
        return all.sub(hi.lanewise(VectorOperators.LSHL, 16)).add(hi).reduceLanes(VectorOperators.ADD) - (SL << 15) * steps;
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
     * Rows of x are shared out between the threads in whole tiles; each packs its own B block.
     */
    private static void gemmPacked(int m, byte[] x, int xOff, Int8Matrix w, Epilogue e) {
        int n = w.rows, k = w.cols;
        prepare(e);
        int kc = Gemm.ceilDiv(k, Gemm.ceilDiv(k, Gemm.KC));
        int nc = Math.min(Gemm.roundUp(n, NR), Math.max(NR, FLOAT_BLOCK / Gemm.roundUp(k, kc) / NR * NR));
        Parallel.RangeTask rows = (from, to) -> {
            Workspace ws = WORKSPACE.get();
            int kp = Gemm.roundUp(k, kc), mc = Gemm.roundUp(Math.min(Gemm.MC, to - from), MR);
            if (ws.ap.length < mc * kc) ws.ap = new float[mc * kc];
            if (ws.bp.length < kp * nc) ws.bp = new float[kp * nc];
            int ldc = nc + LDC_PAD;
            if (ws.cf.length < mc * ldc) ws.cf = new float[mc * ldc];
            if (k > K_CHUNK && ws.acc.length < mc * ldc) ws.acc = new int[mc * ldc];
            for (int jc = 0; jc < n; jc += nc) {
                int jn = Math.min(nc, n - jc);
                for (int ic = from; ic < to; ic += mc) {
                    block(x, xOff, w, e, ws, ic, Math.min(mc, to - ic), jc, jn, nc, kc, ic == from);
                }
            }
        };
        if ((long) m * n * k < Gemm.PARALLEL_WORK) rows.run(0, m);
        else Parallel.forRange(m, MR, rows);
    }

    /**
     * Prepares the vector epilogue: {@link Epilogue#offset} for this call's zero point and, for
     * INT8 output, {@link #requantizeDouble}'s per-channel constants, which
     * {@link Int8Requantization} computes once (null when some shift is out of their range).
     */
    private static void prepare(Epilogue e) {
        Int8Requantization rq = e.rq;
        if (e.out == Out.INT8) {
            e.real = rq.real;
            e.accLo = rq.accLo;
            e.accHi = rq.accHi;
        }
        int[] bias = e.out == Out.INT8 ? rq.bias : e.bias;
        e.offset = new int[e.n];
        for (int j = 0; j < e.n; j++) e.offset[j] = (bias == null ? 0 : bias[j]) - e.zx * e.rowSums[j];
    }

    /** Rows {@code [i0, i0 + im)} x channels {@code [j0, j0 + jn)}, all of K. */
    private static void block(byte[] x, int xOff, Int8Matrix w, Epilogue e, Workspace ws, int i0, int im,
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
                    for (int r = 0; r < MR; r++) System.arraycopy(t, r * NR, cf, co + r * ldc, NR);
                    if (!flush) continue;
                    int mr = Math.min(MR, im - ir), nr = Math.min(NR, jn - jr);
                    if (last) finishTile(e, cf, co, ldc, first ? null : acc, i0 + ir, j0 + jr, mr, nr);
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
    private static void finishTile(Epilogue e, float[] cf, int co, int ldc, int[] acc, int i, int j, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            int c = 0, o = co + r * ldc;
            for (; c + F.length() <= nr; c += F.length()) finish8(e, cf, o + c, acc, j + c, e.yOff + (i + r) * e.n + j + c);
            for (; c < nr; c++) e.put(i + r, j + c, (int) cf[o + c] + (acc == null ? 0 : acc[o + c]));
        }
    }

    /**
     * {@link Epilogue#put} for 8 channels: the same int32 operations, lane by lane, so the same
     * bits. Each branch loads its own vectors: one passed to a method C2 did not inline would be
     * boxed.
     */
    private static void finish8(Epilogue e, float[] cf, int c, int[] acc, int j, int at) {
        switch (e.out) {
            case INT8 -> {
                if (e.real != null) requantizeDouble(cf, c, acc, e, j, at);
                else requantizeLong(cf, c, acc, e, j, at);
            }
            case INT32 -> sum8(cf, c, acc, e, j).intoArray(e.y32, at);
            case FLOAT -> {
                IntVector v = sum8(cf, c, acc, e, j);
                FloatVector f = ((FloatVector) v.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, e.scales, j));
                (e.relu ? f.max(0f) : f).intoArray(e.yf, at);
            }
        }
    }

    /**
     * {@code sum_p (x - zx) * W + bias} of 8 channels: the tile's exact float sums as ints (plus
     * the earlier chunks' {@code acc}), or with {@code cf} null the GEMV's int sums in {@code acc};
     * plus {@link Epilogue#offset}.
     */
    private static IntVector sum8(float[] cf, int c, int[] acc, Epilogue e, int j) {
        IntVector v = cf == null ? IntVector.fromArray(I, acc, c) : (IntVector) FloatVector.fromArray(F, cf, c).convert(VectorOperators.F2I, 0);
        if (cf != null && acc != null) v = v.add(IntVector.fromArray(I, acc, c));
        return v.add(IntVector.fromArray(I, e.offset, j));
    }

    /**
     * {@link Int8Requantization#requantize} of 8 channels whose shifts are at most
     * {@link Int8Requantization#DOUBLE_SHIFT} (and at least 31), in double lanes. The accumulator is first clamped
     * to the range outside which the output is clamped anyway ({@link Int8Requantization#accLo}); inside
     * it {@code |acc * M| < 257}, so {@code acc * multiplier < 2^(shift + 9) <= 2^52} and
     * {@code acc * M + 256.5} (a positive multiple of {@code 2^-shift} below 1024) is a double:
     * the FMA is exact and truncation is floor. About half the instructions of the 64-bit
     * integer form (AVX2 has no 64-bit arithmetic shift or min/max).
     */
    private static void requantizeDouble(float[] cf, int c, int[] acc, Epilogue e, int j, int at) {
        Int8Requantization rq = e.rq;
        // clamped as ints (Java's double min/max cost compares and blends on AVX2); + 1/2 rounds,
        // + 256 makes every value positive, where truncation is floor
        IntVector v = sum8(cf, c, acc, e, j).max(IntVector.fromArray(I, e.accLo, j)).min(IntVector.fromArray(I, e.accHi, j));
        DoubleVector d0 = ((DoubleVector) v.convert(VectorOperators.I2D, 0)).fma(DoubleVector.fromArray(D, e.real, j), HALF_UP);
        DoubleVector d1 = ((DoubleVector) v.convert(VectorOperators.I2D, 1)).fma(DoubleVector.fromArray(D, e.real, j + 4), HALF_UP);
        IntVector r = ((IntVector) d0.convertShape(VectorOperators.D2I, I, 0))
                .or((IntVector) d1.convertShape(VectorOperators.D2I, I, -1)).add(rq.outputZeroPoint - 256);
        r.convertShape(VectorOperators.I2B, B64, 0).reinterpretAsBytes().intoArray(e.y8, at);
    }

    /** {@link Int8Requantization#requantize} of 8 channels with the same 64-bit integer operations. */
    private static void requantizeLong(float[] cf, int c, int[] acc, Epilogue e, int j, int at) {
        Int8Requantization rq = e.rq;
        IntVector v = sum8(cf, c, acc, e, j);
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
        r.convertShape(VectorOperators.I2B, B64, 0).reinterpretAsBytes().intoArray(e.y8, at);
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
