package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The INT8 product of {@link VectorInt8Kernels} for few activation rows (below
 * {@link VectorInt8Kernels#GEMM_ROWS}): the weights are streamed once, a byte each, and the dot
 * products run in 16-bit lanes. The Vector API has no integer dot product (no
 * {@code vpmaddwd}/{@code vpdpbusd}), and its widening conversions ({@code convertShape}
 * B2S, S2I) turned out slow on AVX2, so everything is done with masks and shifts on
 * reinterpreted vectors. {@link Int8Matrix} holds even weights + 128:
 * <pre>
 *   32 weight bytes read as 16 shorts s:       s = w[2j+1] * 256 + (w[2j] + 128)
 *   even' = s AND 0x00FF  (32-bit AND)         w[2j] + 128, in [1, 255]
 *   odd   = s >> 8        (16-bit shift)       w[2j+1]
 *   v = even' * xEven + odd * xOdd + c         16-bit, wrapping; c = 2^15 - 128 * xEven (per call)
 *     = q + 2^15 mod 2^16, q the pair sum      |q| <= 2 * 127 * 128 = 32512: v is q + 2^15 exactly
 *   v read as 8 ints:                          v = (q[2i+1] + 2^15) * 2^16 + (q[2i] + 2^15)
 *   all += v;  hi += v >>> 16                  (the int adds wrap; the final sum is exact mod 2^32)
 *   sum q = hi + (all - hi * 2^16) - 2^15 * (16 lanes * steps)
 * </pre>
 * One load, one AND, one shift, two multiplies (their activation operands read from memory)
 * and five adds per 32 weights. The activations are split into even and odd shorts, and the
 * corrections c computed, once per call. Weights must be in [-127, 127] for the pair sum.
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
 * <li>The sums finished 8 channels at a time by the GEMM's vector epilogue ({@link Int8Epilogue}) rather than
 *     one by one, and one horizontal sum per row instead of two: 1.03-1.07x on 4096 x 4096,
 *     within the noise on 300 x 784.
 * </ul>
 */
final class Int8Gemv {

    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
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
    /** Channels whose sums are finished together (vector epilogue, 8 at a time). */
    private static final int FINISH_RUN = 64;
    /** Weights from this many bytes on (twice this core's L2) are streamed two rows at a time ({@link #dot2}). */
    private static final long PAIR_BYTES = 1L << 20;
    /**
     * Below this many multiply-adds a product is not worth handing to a second thread. Measured on
     * the 2-vCPU host with {@link Parallel#forChunks}, three runs: two threads took 1.1-1.75x the
     * time of one at 300 x 784 and 512 x 512, 0.72-1.0x at 1024 x 1024, 0.75-0.87x at 1448 and
     * 2048 square.
     */
    private static final long PARALLEL_WORK = 1L << 20;

    private static final class Workspace {
        /** The activations widened and split, per call. */
        short[] xs = new short[0];
        /** The dot products, runs of {@link #FINISH_RUN} per activation row. */
        int[] dots = new int[0];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Int8Gemv() {}

    static void gemv(int m, byte[] x, int xOff, Int8Matrix w, Int8Epilogue e) {
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
            // whole blocks in vectors (a byte a nanosecond in scalar code: 0.7 us of a 13 us 300 x 784
            // product): the 32 bytes as 16 shorts, odd byte high; sign-extended halves by 16-bit shifts
            for (; p + STEP <= k; p += STEP, b += X_STEP) {
                ShortVector pairs = ByteVector.fromArray(B, x, xi + p).reinterpretAsShorts();
                ShortVector even = pairs.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                even.intoArray(xs, b);
                pairs.lanewise(VectorOperators.ASHR, 8).intoArray(xs, b + SL);
                ShortVector.broadcast(S, BIAS).sub(even.mul((short) Int8Matrix.EVEN_BIAS)).intoArray(xs, b + 2 * SL);
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
        else Parallel.forChunks(n, 1, rows);
    }

    /** This thread's buffer for {@code rows} runs of {@link #FINISH_RUN} dot products. */
    private static int[] dots(int rows) {
        Workspace ws = WORKSPACE.get();
        if (ws.dots.length < rows * FINISH_RUN) ws.dots = new int[rows * FINISH_RUN];
        return ws.dots;
    }

    /** The epilogue of activation row i, channels {@code [j0, j0 + jn)}, from their sums at {@code dots[at..]}. */
    private static void finishRun(Int8Epilogue e, int[] dots, int at, int i, int j0, int jn) {
        int c = 0;
        for (; c + F.length() <= jn; c += F.length()) e.finish8(null, at + c, dots, j0 + c, e.yOff + i * e.n + j0 + c);
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
     * time (adjacent rows: no gain). The step is written out again rather than shared with
     * {@link #dot} through a helper returning the step's vector: that version measured 0.92-0.93x
     * on 4096 x 4096 (two builds in one JVM, both orders).
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
}
