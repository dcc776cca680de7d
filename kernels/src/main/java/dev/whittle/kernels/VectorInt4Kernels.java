package dev.whittle.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int4Kernels} on the Vector API, 256 bits at a time, on {@link Int4Matrix}'s in-memory
 * layout: a load holds 4 weights of each of 16 groups (one group per short lane), stored as
 * {@code u = q + 8}.
 *
 * <p><b>W4A8</b> ({@link #gemmA8}): the activations of each row are quantized per group and laid
 * out once per call in the order of the nibbles ({@code xp[load][r][lane]}). Per load, three
 * 32-bit shifts (immediate counts, unlike 16-bit ones, which C2 reloads from a register) and four
 * ANDs take out the four nibbles of every lane, {@code u} in [0, 15]; four 16-bit multiplies and
 * adds sum the products {@code |u * x| <= 15 * 127}, sixteen per lane (four loads, at most 30480)
 * before the lanes are widened into two int vectors, the even and the odd groups. At the end of a
 * block each lane holds one whole group's {@code sum u * x}; minus {@code 8 * sum x} (per call) that
 * is the exact group dot product, scaled by {@code s_w * s_x} in float lanes: no horizontal sum
 * per group, one per row. The summation order of the groups is therefore that of
 * {@link ScalarInt4Kernels#gemmA8}'s lanes, which its twin follows bit for bit.
 *
 * <p><b>W4 FP32</b> ({@link #gemm}): the load read as 8 int lanes, each two groups' 4 nibbles;
 * XOR 0x88888888 restores the two's complement nibbles, two 32-bit shifts sign-extend each one,
 * converted to float in place and multiplied with the permuted activations; each block's lane
 * sums are scaled per group. Within float rounding of the twin. Many activation rows
 * ({@link #GEMM_ROWS} or more) dequantize the weights block by block for the FP32 GEMM instead;
 * W4A8 with {@link #A8_GEMM_ROWS} or more runs every group's exact integer dot products as an FP32
 * GEMM over integer-valued floats, with the same bits ({@link #gemmA8ViaFloat}).
 *
 * <p>Measured (GEMV 4096 x 4096, group 64, one thread, a shared Zen 3 whose other core was
 * mostly busy with other builds: figures drift by 30% from minute to minute):
 * <ul>
 * <li>The previous kernel (sequential nibbles, each sign-extended by two 16-bit shifts, each
 *     64-weight group reduced to one int across lanes) ran at 1.3-1.6x OpenBLAS SGEMV; W4 FP32
 *     was no faster (1954 against 2004 us).
 * <li>Unsigned nibbles by 32-bit shift and AND, one group per lane: 1.0-1.5 ms CPU time, and
 *     2.5-2.8x OpenBLAS in {@code whittle bench kernels} when the host was quiet enough to tell.
 *     The first version compiled {@code t % loadsPerBlock} to an {@code idiv} every fourth
 *     load and kept the loop counter in memory; nested loops with constant steps fixed both.
 *     Now one loop runs over the row's loads four at a time (one widening step), the block's end
 *     a mask of the counter (loads per block are a power of two): 1.06-1.11x the nested loops
 *     (one load per iteration, the widening by a mask too, had no range checks left but more
 *     scalar work per load: 1.02-1.03x).
 * <li>Writing the four loads of a widening step out by hand made C2 hoist all sixteen
 *     activation loads and spill; the four-iteration loop it unrolls itself did better.
 * <li>Per call, quantizing and laying out the activations costs about 15 us (K = 4096): nothing
 *     at N = 4096, a third of the time at N = 16.
 * <li>The nibble mask as a constant ({@code v.and(0x000F000F)}): short of ymm registers, C2
 *     broadcast it from the constant pool again before each of the sixteen ANDs of a widening
 *     step (seen in the disassembly). Read from an array once per row it stays in a register:
 *     1.10-1.12x faster (medians of per-call ratios, the two builds loaded side by side in one JVM).
 *     Tried and dropped, same way: two rows per pass sharing the activation loads (0.74-0.77x:
 *     spills; 0.66-0.73x with the loop body cut into basic blocks by never-taken tests, as in
 *     {@link GemmMicroKernel}, though a standalone copy of that loop ran 1.15x faster on L2-sized
 *     weights; the same cut into this one-row loop: 0.98-1.01x); two rows far apart (j and j + n/2), each with its own activation loads, which
 *     made the INT8 GEMV 1.23x faster by keeping two streams of weights in flight: 0.97-0.98x
 *     here, where 8 MB of weights mostly stay in the L3 and the loop is bound by instructions; the
 *     fourth nibble by a 16-bit shift of the shorts (bits 12-15, no AND needed): 0.67-0.84x,
 *     three JVM runs of each taking turns (C2's 16-bit shifts again).
 * </ul>
 */
final class VectorInt4Kernels implements Int4Kernels {

    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int SL = S.length();
    private static final int FL = F.length();
    /** Four int and float lanes: the quads of {@link #dequantize}. */
    private static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /** The bit offsets of the four nibbles of a short lane. */
    private static final int[] QUAD_SHIFTS = {0, 4, 8, 12};
    private static final int IL = I.length();
    /** Bytes per load. */
    private static final int LOAD = 32;
    /** Lanes of a block: {@link Int4Matrix#LANES} groups. */
    private static final int LANES = Int4Matrix.LANES;
    /** The low nibble of each short lane. */
    private static final int NIBBLES = 0x000F000F;
    /**
     * {@link #NIBBLES} in every lane, read from memory once per row: as a broadcast constant, C2
     * (short of ymm registers in {@link #dotsA8}) rematerialized it before every AND.
     */
    private static final int[] NIBBLE_MASK = IntVector.broadcast(I, NIBBLES).toArray();
    /** Loads whose products one 16-bit lane can sum: 16 * 15 * 127 < 2^15. */
    private static final int LOADS_PER_WIDEN = 4;

    /**
     * From this many activation rows on, {@link #gemm} unpacks the weights for the FP32 GEMM. Row
     * path against GEMM path, two builds in one JVM, one thread (> 1: the GEMM faster): 300 x 784
     * 0.30, 0.51, 0.78, 1.32, 1.45 at 2, 4, 8, 12, 16 rows; 1024 x 1024 0.15, 0.40, 0.51, 0.81,
     * 1.19; 120 x 400 0.62, 0.97, 1.18 and 2.83 at 2, 4, 8 and 16.
     */
    static final int GEMM_ROWS = 12;
    /**
     * From this many activation rows on, {@link #gemmA8} runs as per-group FP32 GEMMs
     * ({@link #gemmA8ViaFloat}), whose short products (K = one group) pay more per multiply-add:
     * measured as above, 300 x 784 0.44, 0.76, 0.85, 1.05 at 8, 16, 32, 64 rows; 1024 x 1024 0.31,
     * 0.54, 0.66, 0.82; 120 x 400 0.53, 1.09, 1.06, 1.69. A convolution's lowered rows (hundreds per
     * sample) gain most: LeNet-5 with W4A8 ran 31x slower than FP32 through the row path.
     */
    static final int A8_GEMM_ROWS = 64;
    /** Below this many multiply-adds the product stays on the calling thread (as for the INT8 GEMV, see {@link Int8Gemv}). */
    private static final long PARALLEL_WORK = 1L << 20;
    private static final int FLOAT_BLOCK = 1 << 20;

    private static final QuantKernels QUANT = new VectorQuantKernels();

    private static final class Workspace {
        short[] xp = new short[0];
        int[] corr = new int[0];
        float[] sx = new float[0];
        float[] sxl = new float[0];
        byte[] q = new byte[0];
        int[] d = new int[0];
        float[] xf = new float[0];
        float[] wf = new float[0];
        float[] cf = new float[0];
        float[] bias = new float[0];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    // ---- W4 with FP32 activations ----------------------------------------------------------------

    @Override
    public void gemm(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        if (m == 0) return;
        if (m >= GEMM_ROWS) {
            gemmViaFloat(m, x, xOff, w, bias, relu, y, yOff);
            return;
        }
        int n = w.rows, k = w.cols, span = w.stride * 2;
        Workspace ws = WORKSPACE.get();
        if (ws.xf.length < m * span) ws.xf = new float[m * span];
        float[] xf = ws.xf;
        for (int i = 0; i < m; i++) permute(x, xOff + i * k, k, w, xf, i * span);
        Parallel.RangeTask rows = (from, to) -> {
            for (int j = from; j < to; j++) {
                for (int i = 0; i < m; i++) {
                    y[yOff + i * n + j] = Int4Kernels.finish(rowFloat(w, j, xf, i * span), bias, j, relu);
                }
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forChunks(n, 1, rows);
    }

    /**
     * The activations in the order of {@link #rowFloat}'s products: for load t of block b, nibble
     * R of int lane i is weight {@code 4t + R % 4} of group {@code 16b + 2i + R / 4}:
     * {@code xf[at + ((b * loads + t) * 8 + R) * 8 + i]}, zero past k and in padding groups.
     */
    private static void permute(float[] x, int xo, int k, Int4Matrix w, float[] xf, int at) {
        int gs = w.groupSize, loads = w.loads;
        for (int b = 0; b < w.blocks; b++) {
            for (int t = 0; t < loads; t++) {
                for (int nib = 0; nib < 8; nib++) {
                    for (int i = 0; i < IL; i++) {
                        int col = (LANES * b + 2 * i + nib / 4) * gs + 4 * t + nib % 4;
                        xf[at + ((b * loads + t) * 8 + nib) * IL + i] = col < k ? x[xo + col] : 0f;
                    }
                }
            }
        }
    }

    /**
     * One output of the W4 FP32 product: per load, 8 nibbles per int lane sign-extended by two
     * 32-bit shifts and converted in place, multiplied with the activations, the even group's
     * four (nibbles 0-3) and the odd group's (4-7) summed apart; per block the two lane sums are
     * scaled by their groups' scales. Written out by hand, here and in {@link #dotsA8}: a helper
     * returning a vector is not always inlined by C2, and a vector that crosses a real call is
     * boxed.
     */
    private static float rowFloat(Int4Matrix w, int j, float[] xf, int xo) {
        byte[] d = w.data;
        float[] sc = w.laneScales;
        int o = j * w.stride, so = j * w.blocks * LANES, loads = w.loads;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < w.blocks; b++) {
            FloatVector even = FloatVector.zero(F), odd = even;
            for (int t = 0; t < loads; t++) {
                IntVector v = ByteVector.fromArray(B, d, o + (b * loads + t) * LOAD).reinterpretAsInts().lanewise(VectorOperators.XOR, 0x88888888);
                int xb = xo + (b * loads + t) * 8 * IL;
                FloatVector e0 = nib(v, 28).mul(FloatVector.fromArray(F, xf, xb));
                FloatVector e1 = nib(v, 20).mul(FloatVector.fromArray(F, xf, xb + 2 * IL));
                FloatVector o0 = nib(v, 12).mul(FloatVector.fromArray(F, xf, xb + 4 * IL));
                FloatVector o1 = nib(v, 4).mul(FloatVector.fromArray(F, xf, xb + 6 * IL));
                e0 = nib(v, 24).fma(FloatVector.fromArray(F, xf, xb + IL), e0);
                e1 = nib(v, 16).fma(FloatVector.fromArray(F, xf, xb + 3 * IL), e1);
                o0 = nib(v, 8).fma(FloatVector.fromArray(F, xf, xb + 5 * IL), o0);
                o1 = ((FloatVector) v.lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, xf, xb + 7 * IL), o1);
                even = even.add(e0.add(e1));
                odd = odd.add(o0.add(o1));
            }
            int sb = so + b * LANES;
            acc = even.fma(FloatVector.fromArray(F, sc, sb), acc);
            acc = odd.fma(FloatVector.fromArray(F, sc, sb + FL), acc);
        }
        return sumLanes(acc);
    }

    /** {@code (v << left) >> 28} as floats: one sign-extended nibble per lane. Small enough that C2 always inlines it. */
    private static FloatVector nib(IntVector v, int left) {
        return (FloatVector) v.lanewise(VectorOperators.LSHL, left).lanewise(VectorOperators.ASHR, 28)
                .convert(VectorOperators.I2F, 0);
    }

    /**
     * The lanes added in a fixed order: {@code reduceLanes(ADD)} on floats adds in one order when
     * interpreted and another once C2 compiles it, which would make results depend on the JIT.
     */
    private static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < FL; i++) s += v.lane(i);
        return s;
    }

    /** Many rows: dequantize weight rows block by block and run the FP32 GEMM with bias and ReLU. */
    private static void gemmViaFloat(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu,
                                     float[] y, int yOff) {
        int n = w.rows, k = w.cols;
        int nb = Math.min(n, Math.max(16, Math.min(FLOAT_BLOCK / k, FLOAT_BLOCK / m)));
        Workspace ws = WORKSPACE.get();
        if (ws.wf.length < nb * k) ws.wf = new float[nb * k];
        float[] wf = ws.wf;
        FloatKernels fp32 = Kernels.fp32();
        if (nb == n) {
            dequantizeRows(w, 0, n, wf, 0);
            fp32.gemmNTBias(m, n, k, x, xOff, wf, 0, bias, y, yOff, relu);
            return;
        }
        if (ws.cf.length < m * nb) ws.cf = new float[m * nb];
        if (ws.bias.length < nb) ws.bias = new float[nb];
        float[] cf = ws.cf, bb = ws.bias;
        for (int j0 = 0; j0 < n; j0 += nb) {
            int jn = Math.min(nb, n - j0);
            dequantizeRows(w, j0, jn, wf, 0);
            float[] blockBias = null;
            if (bias != null) {
                blockBias = jn == bb.length ? bb : new float[jn];
                System.arraycopy(bias, j0, blockBias, 0, jn);
            }
            fp32.gemmNTBias(m, jn, k, x, xOff, wf, 0, blockBias, cf, 0, relu);
            for (int i = 0; i < m; i++) System.arraycopy(cf, i * jn, y, yOff + i * n + j0, jn);
        }
    }

    /**
     * {@code wf[r][p] = W[j0 + r][p] * scale} for {@code rows} rows, K wide, group by group: the
     * four weights a short lane of one load holds are consecutive in their group, so each goes
     * out as one 4-float vector (the short broadcast, shifted by 0, 4, 8 and 12, masked, offset and
     * converted). Weight by weight through {@link Int4Matrix#get} (two divisions each) this took
     * about 2.5 ms for 300 x 784, five times the FP32 product it feeds.
     */
    @Override
    public void dequantize(Int4Matrix w, int row0, int rows, float[] dst, int dstOff) {
        Int4Kernels.checkRows(w, row0, rows, dst, dstOff);
        dequantizeRows(w, row0, rows, dst, dstOff);
    }

    private static void dequantizeRows(Int4Matrix w, int j0, int rows, float[] wf, int dstOff) {
        unpack(w, j0, rows, wf, dstOff, w.cols, w.groupSize, w.cols, true);
    }

    /**
     * Weight (j0 + r, g * gs + p) of the columns below {@code limit}, times its scale when
     * {@code scaled} (else q itself), to {@code dst[base + r * rowStride + g * groupStride + p]}:
     * {@link #dequantizeRows} writes rows K long, {@link #gemmA8ViaFloat} group-major blocks.
     */
    private static void unpack(Int4Matrix w, int j0, int rows, float[] dst, int base, int rowStride, int groupStride,
                               int limit, boolean scaled) {
        int gs = w.groupSize, loads = w.loads;
        byte[] d = w.data;
        float[] sc = w.laneScales;
        IntVector shifts = IntVector.fromArray(I4, QUAD_SHIFTS, 0);
        for (int r = 0; r < rows; r++) {
            int j = j0 + r, row = j * w.stride;
            for (int g = 0; g < w.groups; g++) {
                int block = row + (g / LANES) * LOAD * loads + 2 * (g % LANES), out = base + r * rowStride + g * groupStride;
                float s = scaled ? sc[j * w.blocks * LANES + laneOf(g)] : 1f;  // q * 1f is q: the same bits
                FloatVector scale = FloatVector.broadcast(F4, s);
                // the group's whole quads below the limit as vectors, the rest weight by weight
                int quads = Math.min(loads, (limit - g * gs) / 4);
                for (int t = 0; t < quads; t++) {
                    int at = block + t * LOAD, u = (d[at] & 0xFF) | (d[at + 1] << 8);
                    ((FloatVector) IntVector.broadcast(I4, u).lanewise(VectorOperators.LSHR, shifts).and(0xF).sub(8)
                            .convert(VectorOperators.I2F, 0)).mul(scale).intoArray(dst, out + 4 * t);
                }
                for (int p = 4 * quads; p < gs && g * gs + p < limit; p++) {
                    int at = block + (p >> 2) * LOAD + ((p & 3) >> 1);
                    dst[out + p] = ((((d[at] & 0xFF) >> ((p & 1) * 4)) & 0xF) - 8) * s;
                }
            }
        }
    }

    // ---- W4A8 --------------------------------------------------------------------------------------

    @Override
    public void gemmA8(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        if (m == 0) return;
        if (m >= A8_GEMM_ROWS) {
            gemmA8ViaFloat(m, x, xOff, w, bias, relu, y, yOff);
            return;
        }
        int n = w.rows, k = w.cols, gs = w.groupSize, groups = w.groups, span = w.stride * 2;
        int lanes = w.blocks * LANES;
        Workspace ws = WORKSPACE.get();
        if (ws.xp.length < m * span) ws.xp = new short[m * span];
        if (ws.corr.length < m * lanes) ws.corr = new int[m * lanes];
        if (ws.sxl.length < m * lanes) ws.sxl = new float[m * lanes];
        if (ws.sx.length < groups) ws.sx = new float[groups];
        if (ws.q.length < w.paddedCols) ws.q = new byte[w.paddedCols];
        short[] xp = ws.xp;
        int[] corr = ws.corr;
        float[] sx = ws.sx, sxl = ws.sxl;
        byte[] q = ws.q;
        for (int i = 0; i < m; i++) {
            ScalarInt4Kernels.quantizeGroups(QUANT, x, xOff + i * k, k, gs, q, 0, sx, 0);
            java.util.Arrays.fill(corr, i * lanes, (i + 1) * lanes, 0);
            java.util.Arrays.fill(sxl, i * lanes, (i + 1) * lanes, 0f);
            // xp[i][(load * 4 + r) * 16 + j] = q[group 16b + j][4t + r], the nibble order of a load
            // t of block b: with p = 4t + r, group g's activations land 16 shorts apart from
            // xp[i][b * 16 * gs + j], so each group is one strided copy (written as the four nested
            // loops of that formula, the layout took 12 us at K = 4096, most of a small layer's call)
            for (int g = 0; g < w.blocks * LANES; g++) {
                int to = i * span + (g / LANES) * LANES * gs + g % LANES;
                if (g >= groups) {
                    for (int p = 0; p < gs; p++) xp[to + p * SL] = 0;
                    continue;
                }
                int sum = 0;
                for (int p = 0, from = g * gs; p < gs; p++) {
                    byte v = q[from + p];
                    xp[to + p * SL] = v;
                    sum += v;
                }
                int lane = i * lanes + laneOf(g);
                corr[lane] = 8 * sum;
                sxl[lane] = sx[g];
            }
        }
        Parallel.RangeTask rows = (from, to) -> {
            Workspace own = WORKSPACE.get();
            if (own.d.length < lanes) own.d = new int[lanes];
            int[] d = own.d;
            for (int j = from; j < to; j++) {
                for (int i = 0; i < m; i++) {
                    dotsA8(w, j, xp, i * span, d);
                    y[yOff + i * n + j] = Int4Kernels.finish(scaleA8(w, j, d, corr, sxl, i * lanes), bias, j, relu);
                }
            }
        };
        if ((long) m * n * k < PARALLEL_WORK) rows.run(0, n);
        else Parallel.forChunks(n, 1, rows);
    }

    /**
     * W4A8 for many activation rows, with the same bits as the one-row path: every group's integer
     * dot products for all rows at once, as an FP32 GEMM over integer-valued floats (activations
     * {@code q_x} and weights {@code q_w}, group-major), which is exact: each of its FMA chains
     * only ever holds integers below {@code 128 * 8 * 127 < 2^24}. Then, group by group in
     * natural order, {@code lane[g % 16 / 2] = fma(dot, s_w * s_x, lane)} and the eight lanes summed
     * in order: the float operations of {@link #scaleA8}, in its order (it skips nothing but
     * padding groups, whose zero terms change no lane). Weights are unpacked a block of rows at a
     * time. Row by row (one dot product per activation row and channel, the weights' unpacking
     * repeated for every row) a LeNet-5 convolution ran 20 times slower than its FP32 form.
     */
    private static void gemmA8ViaFloat(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu,
                                       float[] y, int yOff) {
        int n = w.rows, k = w.cols, gs = w.groupSize, groups = w.groups;
        Workspace ws = WORKSPACE.get();
        int xs = groups * m * gs;
        if (ws.xf.length < xs) ws.xf = new float[xs];
        if (ws.sx.length < m * groups) ws.sx = new float[m * groups];
        if (ws.q.length < w.paddedCols) ws.q = new byte[w.paddedCols];
        float[] xg = ws.xf, sx = ws.sx;
        byte[] q = ws.q;
        // xg[g][i][p] = q_x of row i, column g * gs + p (0 past k)
        for (int i = 0; i < m; i++) {
            ScalarInt4Kernels.quantizeGroups(QUANT, x, xOff + i * k, k, gs, q, 0, sx, i * groups);
            for (int g = 0; g < groups; g++) {
                for (int p = 0, to = (g * m + i) * gs, from = g * gs; p < gs; p++) xg[to + p] = q[from + p];
            }
        }
        int nb = Math.min(n, Math.max(16, FLOAT_BLOCK / Math.max(k, 8 * m)));
        if (ws.wf.length < nb * groups * gs) ws.wf = new float[nb * groups * gs];
        if (ws.cf.length < (LANES / 2 + 1) * m * nb) ws.cf = new float[(LANES / 2 + 1) * m * nb];
        if (ws.bias.length < nb) ws.bias = new float[nb];
        float[] wg = ws.wf, lanes = ws.cf, sw = ws.bias;
        FloatKernels fp32 = Kernels.fp32();
        int dots = LANES / 2 * m * nb;  // the dot products of one group follow the eight lanes
        for (int j0 = 0; j0 < n; j0 += nb) {
            int jn = Math.min(nb, n - j0);
            unpack(w, j0, jn, wg, 0, gs, jn * gs, w.paddedCols, false);  // wg[g][r][p] = q, padding 0
            java.util.Arrays.fill(lanes, 0, LANES / 2 * m * jn, 0f);
            for (int g = 0; g < groups; g++) {
                fp32.gemmNTBias(m, jn, gs, xg, g * m * gs, wg, g * jn * gs, null, lanes, dots, false);
                for (int r = 0; r < jn; r++) sw[r] = w.scale(j0 + r, g);
                int lane = g % LANES / 2 * m * jn;
                for (int i = 0; i < m; i++) {
                    float s = sx[i * groups + g];
                    int at = lane + i * jn, d = dots + i * jn;
                    for (int r = 0; r < jn; r++) lanes[at + r] = Math.fma(lanes[d + r], sw[r] * s, lanes[at + r]);
                }
            }
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < jn; r++) {
                    float sum = 0f;
                    for (int l = 0; l < LANES / 2; l++) sum += lanes[(l * m + i) * jn + r];
                    y[yOff + i * n + j0 + r] = Int4Kernels.finish(sum, bias, j0 + r, relu);
                }
            }
        }
    }

    /** The position of group g among the lanes of its block: the 8 even groups, then the 8 odd ones. */
    static int laneOf(int g) {
        int j = g % LANES;
        return g - j + (j & 1) * (LANES / 2) + (j >> 1);
    }

    /**
     * {@code d[laneOf(g)] = sum_{p in g} u[p] * x[p]} for every group of row j: four loads
     * summed in 16-bit lanes, then widened by shifts (the even groups are the low shorts of the
     * int lanes, the odd ones the high shorts) and added up per block.
     */
    private static void dotsA8(Int4Matrix w, int j, short[] xp, int xo, int[] d) {
        byte[] wd = w.data;
        int row = j * w.stride, loads = w.blocks * w.loads, perBlock = w.loads - 1;
        IntVector mask = IntVector.fromArray(I, NIBBLE_MASK, 0);
        IntVector even = IntVector.zero(I), odd = even;
        for (int t = 0; t < loads; t += LOADS_PER_WIDEN) {
            ShortVector sum = ShortVector.zero(S);
            for (int u = 0; u < LOADS_PER_WIDEN; u++) {
                int at = row + (t + u) * LOAD, x0 = xo + (t + u) * (4 * SL);
                IntVector v = ByteVector.fromArray(B, wd, at).reinterpretAsInts();
                sum = sum.add(v.and(mask).reinterpretAsShorts().mul(ShortVector.fromArray(S, xp, x0))
                        .add(v.lanewise(VectorOperators.LSHR, 4).and(mask).reinterpretAsShorts()
                                .mul(ShortVector.fromArray(S, xp, x0 + SL)))
                        .add(v.lanewise(VectorOperators.LSHR, 8).and(mask).reinterpretAsShorts()
                                .mul(ShortVector.fromArray(S, xp, x0 + 2 * SL))
                                .add(v.lanewise(VectorOperators.LSHR, 12).and(mask).reinterpretAsShorts()
                                        .mul(ShortVector.fromArray(S, xp, x0 + 3 * SL)))));
            }
            IntVector s = sum.reinterpretAsInts();
            even = even.add(s.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
            odd = odd.add(s.lanewise(VectorOperators.ASHR, 16));
            if (((t + LOADS_PER_WIDEN - 1) & perBlock) == perBlock) {
                int b = t / w.loads;
                even.intoArray(d, b * LANES);
                odd.intoArray(d, b * LANES + IL);
                even = IntVector.zero(I);
                odd = even;
            }
        }
    }

    /** The group sums of one row scaled and added in the lanes' order (see {@link ScalarInt4Kernels#gemmA8}). */
    private static float scaleA8(Int4Matrix w, int j, int[] d, int[] corr, float[] sxl, int at) {
        float[] sc = w.laneScales;
        int so = j * w.blocks * LANES;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < w.blocks * LANES; b += IL) {
            FloatVector dot = (FloatVector) IntVector.fromArray(I, d, b).sub(IntVector.fromArray(I, corr, at + b))
                    .convert(VectorOperators.I2F, 0);
            acc = dot.fma(FloatVector.fromArray(F, sc, so + b).mul(FloatVector.fromArray(F, sxl, at + b)), acc);
        }
        return sumLanes(acc);
    }
}
