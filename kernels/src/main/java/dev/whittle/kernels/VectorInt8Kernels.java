package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
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
 *     B2S, S2I) turned out slow on AVX2, so everything is done with 16- and 32-bit shifts on
 *     reinterpreted vectors:
 *     <pre>
 *   32 weight bytes read as 16 shorts s:       s = w[2j+1] w[2j]          (little-endian)
 *   even weights  (s << 8) >> 8, odd  s >> 8   (sign-extended, two shifts and one)
 *   q = even * xEven + odd * xOdd              16-bit: |q| <= 2 * 127 * 128 = 32512
 *   v = q ^ 0x8000, read as 8 ints:            v = (q[2i+1] + 2^15) * 2^16 + (q[2i] + 2^15)
 *   all += v;  hi += v >>> 16                  (the int adds wrap; the final sum is exact mod 2^32)
 *   sum q = hi + (all - hi * 2^16) - 2^15 * (16 lanes * steps)
 *     </pre>
 *     The activations are split into even and odd shorts once per call. Weights must be in
 *     [-127, 127] ({@link Int8Matrix}) for the 16-bit pair sum.
 * <li><b>Many activation rows (GEMM)</b>: integer products in registers cost several
 *     instructions per float FMA, so the product is handed to the FP32 GEMM on float copies
 *     of the int8 values, made per call, K at most {@link #K_CHUNK} at a time. It is still exact
 *     integer arithmetic: every product is an integer of magnitude at most 2^14 and every partial
 *     sum of at most 1024 of them at most 2^24, which a float holds exactly, so no FMA ever
 *     rounds, whatever the order or blocking of the FP32 GEMM. Each chunk's float result is
 *     converted back to int32 and summed.
 * </ul>
 *
 * <p>Measured (AMD EPYC Zen 3, AVX2, one thread, a shared machine: thread-CPU-time medians of
 * 30 calls, IntKernelBenchmark's {@code dot*} variants over the same 4096 x 4096 weights):
 * <pre>
 *   bytes widened to shorts, multiplied, widened to ints, 8 at a time (Lucene's 256-bit form)  2088 us
 *   16 bytes widened (B2S), each product vector widened (S2I)                                  2292 us
 *   as above, two products summed as shorts before widening (S2I)                              1718 us
 *   bytes split by shifts instead of B2S, pair sum widened with S2I                            2414 us
 *   bytes split by shifts, pair sum widened lazily by shifts (this kernel)                     1277 us
 *   dequantise in registers: 8 bytes to floats (B2F), FMA with float activations (exact)      1798 us
 *   plain short[] loop over pre-widened weights (C2 auto-vectorisation, 2x the bytes)        10241 us
 *   plain byte[] loop                                                                        11878 us
 *   (OpenBLAS FP32 SGEMV, numpy 2.4.6 / OpenBLAS 0.3.31, same minutes: 3209 and 3314 us)
 * </pre>
 * A later run of this class's GEMV (one row at a time, which beat two and four rows sharing the
 * activation loads): 1183 and 1549 us, OpenBLAS 3011, 2810 and 3077 us around it: 2 to 2.5x.
 * In L2-sized tests the lazily widened kernel ran at 25 G weights/s; at 16 MB it runs near the
 * speed of merely streaming the bytes, so memory, not arithmetic, bounds it there. On the GEMM
 * path the int8 epilogue requantizes 8 channels at a time in 64-bit lanes (1.7 ms per million
 * outputs against 4.1 ms for the scalar formula).
 */
final class VectorInt8Kernels implements Int8Kernels {

    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_256;
    /** Shorts per vector. */
    private static final int SL = S.length();
    /** Weights per inner-loop step: one 256-bit load, 16 even and 16 odd. */
    private static final int STEP = 2 * SL;
    /** Flips a 16-bit pair sum into unsigned range, so its int halves can be summed apart. */
    private static final short BIAS = (short) 0x8000;

    /**
     * From this many activation rows on, the float-GEMM path is faster. Measured on lenet-300-100's
     * first layer (300 x 784), one thread: batch 16 took 287 us on the GEMV path and 529 us on
     * the GEMM path, batch 32 454 and 729 us, batch 64 1186 and 1036 us.
     */
    static final int GEMM_ROWS = 48;
    /** Depth of one exact float product: 1024 * 2^14 = 2^24, the last integer a float holds exactly. */
    static final int K_CHUNK = 1024;
    /** Below this many multiply-adds a product is not worth handing to a second thread. */
    private static final long PARALLEL_WORK = 1L << 17;
    /** Floats of weights (and of C) one float-GEMM block may hold. */
    private static final int FLOAT_BLOCK = 1 << 20;

    private static final class Workspace {
        short[] xs = new short[0];
        float[] xf = new float[0];
        float[] wf = new float[0];
        float[] cf = new float[0];
        int[] acc = new int[0];
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
        else gemmViaFloat(m, x, xOff, w, e);
    }

    // ---- few rows: 16-bit dot products -----------------------------------------------------------

    private static void gemv(int m, byte[] x, int xOff, Int8Matrix w, Epilogue e) {
        int n = w.rows, k = w.cols, stride = w.stride;
        int depth = Quantization.roundUp(k, STEP); // <= stride; the padding is zeros on both sides
        Workspace ws = WORKSPACE.get();
        if (ws.xs.length < m * stride) ws.xs = new short[m * stride];
        short[] xs = ws.xs;
        // widened and split once per call: block of 32 -> [16 even | 16 odd], zeros past k
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * k, at = i * stride;
            for (int p = 0; p < stride; p += STEP) {
                for (int t = 0; t < SL; t++) {
                    int even = p + 2 * t;
                    xs[at + p + t] = even < k ? x[xi + even] : 0;
                    xs[at + p + SL + t] = even + 1 < k ? x[xi + even + 1] : 0;
                }
            }
        }
        byte[] wd = w.data;
        Parallel.RangeTask rows = (from, to) -> {
            for (int j = from; j < to; j++) {
                for (int i = 0; i < m; i++) e.put(i, j, dot(wd, j * stride, xs, i * stride, depth));
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forRange(n, 1, rows);
    }

    /**
     * One row's dot product, the steps drawn in the class comment. One row at a time measured
     * faster than two or four sharing the activation loads (more registers live, more streams).
     * Written out by hand: a helper method returning a vector is not always inlined by C2, and a
     * vector that crosses a real call is boxed, a hundredfold slower.
     */
    private static int dot(byte[] w, int o, short[] xs, int xo, int depth) {
        IntVector all = IntVector.zero(I), hi = all;
        for (int p = 0; p < depth; p += STEP) {
            ShortVector s = ByteVector.fromArray(B, w, o + p).reinterpretAsShorts();
            IntVector v = s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8)
                    .mul(ShortVector.fromArray(S, xs, xo + p))
                    .add(s.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(S, xs, xo + p + SL)))
                    .lanewise(VectorOperators.XOR, BIAS).reinterpretAsInts();
            all = all.add(v);
            hi = hi.add(v.lanewise(VectorOperators.LSHR, 16));
        }
        return unbias(all.reduceLanes(VectorOperators.ADD), hi.reduceLanes(VectorOperators.ADD), depth / STEP);
    }

    /**
     * The sum of the pair sums from the lane totals: {@code hi} is the sum of the biased high
     * shorts, {@code all - hi * 2^16} that of the biased low shorts (both mod 2^32, which is
     * exact for an int result); each of the {@code 16 * steps} shorts carried a bias of 2^15.
     */
    private static int unbias(int all, int hi, int steps) {
        return hi + (all - (hi << 16)) - (SL << 15) * steps;
    }

    // ---- many rows: exact products on the FP32 GEMM ----------------------------------------------

    private static void gemmViaFloat(int m, byte[] x, int xOff, Int8Matrix w, Epilogue e) {
        int n = w.rows, k = w.cols;
        int kc0 = Math.min(k, K_CHUNK);
        // block rows and output channels so the float copies and C stay a few MB whatever the layer
        int mb = Math.min(m, Math.max(16, FLOAT_BLOCK / kc0));
        int nb = Math.min(n, Math.max(16, Math.min(FLOAT_BLOCK / kc0, FLOAT_BLOCK / mb) / 16 * 16));
        boolean chunked = k > K_CHUNK;
        Workspace ws = WORKSPACE.get();
        if (ws.xf.length < mb * kc0) ws.xf = new float[mb * kc0];
        if (ws.wf.length < nb * kc0) ws.wf = new float[nb * kc0];
        if (ws.cf.length < mb * nb) ws.cf = new float[mb * nb];
        if (chunked && ws.acc.length < mb * n) ws.acc = new int[mb * n];
        float[] xf = ws.xf, wf = ws.wf, cf = ws.cf;
        int[] acc = ws.acc;
        FloatKernels fp32 = Kernels.fp32();
        for (int i0 = 0; i0 < m; i0 += mb) {
            int im = Math.min(mb, m - i0);
            for (int p0 = 0; p0 < k; p0 += K_CHUNK) {
                int kc = Math.min(K_CHUNK, k - p0);
                boolean first = p0 == 0, last = p0 + kc == k;
                toFloat(x, xOff + i0 * k + p0, k, im, kc, xf);
                for (int j0 = 0; j0 < n; j0 += nb) {
                    int jn = Math.min(nb, n - j0);
                    toFloat(w.data, j0 * w.stride + p0, w.stride, jn, kc, wf);
                    fp32.gemmNT(im, jn, kc, xf, 0, wf, 0, cf, 0, false);
                    collect(e, i0, im, j0, jn, n, cf, acc, first, last);
                }
            }
        }
    }

    /**
     * Adds one chunk's exact float sums ({@code cf[im x jn]}) to the int32 sums of rows
     * {@code i0..}, channels {@code j0..}; after the last chunk, runs the epilogue instead.
     */
    private static void collect(Epilogue e, int i0, int im, int j0, int jn, int n, float[] cf, int[] acc,
                                boolean first, boolean last) {
        boolean vectorOut = last && e.out == Out.INT8;
        Parallel.RangeTask rows = (from, to) -> {
            for (int i = from; i < to; i++) {
                int c = i * jn, a = i * n + j0, jj = 0;
                if (vectorOut) {
                    for (int bound = F.loopBound(jn); jj < bound; jj += F.length()) {
                        requantize8(cf, c + jj, first ? null : acc, a + jj, e, j0 + jj, e.yOff + (i0 + i) * n + j0 + jj);
                    }
                }
                for (; jj < jn; jj++) {
                    int dot = (int) cf[c + jj] + (first ? 0 : acc[a + jj]);
                    if (last) e.put(i0 + i, j0 + jj, dot);
                    else acc[a + jj] = dot;
                }
            }
        };
        if ((long) im * jn < PARALLEL_WORK / 8) rows.run(0, im);
        else Parallel.forRange(im, 1, rows);
    }

    /**
     * {@link Epilogue#put} for INT8 output, 8 channels at a time: the same int32 and 64-bit
     * operations as {@link Int8Requantization#requantize}, lane by lane, so the same bits.
     */
    private static void requantize8(float[] cf, int c, int[] acc, int a, Epilogue e, int j, int at) {
        // vectors are loaded here rather than passed in: one that crossed a call C2 did not inline would be boxed
        IntVector dot = (IntVector) FloatVector.fromArray(F, cf, c).convert(VectorOperators.F2I, 0);
        if (acc != null) dot = dot.add(IntVector.fromArray(I, acc, a));
        Int8Requantization rq = e.rq;
        IntVector v = dot.sub(IntVector.fromArray(I, e.rowSums, j).mul(e.zx)).add(IntVector.fromArray(I, rq.bias, j));
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

    /** {@code dst[r][c] = src[so + r*srcStride + c]} for a {@code rows x len} block. */
    private static void toFloat(byte[] src, int so, int srcStride, int rows, int len, float[] dst) {
        int bound = F.loopBound(len);
        for (int r = 0; r < rows; r++) {
            int s = so + r * srcStride, d = r * len, c = 0;
            for (; c < bound; c += F.length()) {
                ByteVector.fromArray(B64, src, s + c).convertShape(VectorOperators.B2F, F, 0).reinterpretAsFloats()
                        .intoArray(dst, d + c);
            }
            for (; c < len; c++) dst[d + c] = src[s + c];
        }
    }
}
