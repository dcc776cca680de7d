package dev.whittle.bench;

import dev.whittle.kernels.Int4Matrix;
import dev.whittle.kernels.Int8Matrix;
import dev.whittle.kernels.Int8Requantization;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.Parallel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The integer kernels next to the FP32 ones on the shapes issue 5 sets: GEMV 4096 x 4096 (INT8,
 * INT4 with groups of 64, FP32) and GEMM 1024 x 1024 x 256 (m x n x k). The {@code dot*} methods
 * are the ways of writing an int8 dot product on the Vector API without a dot-product
 * instruction, each over the same 4096 x 4096 weights, one row at a time; the winner is what
 * {@code VectorInt8Kernels} uses. Run with one kernel thread ({@code threads=1}) for the
 * per-core figures.
 *
 * <p>What these measured on the shared 2-core Zen 3 (thread-CPU-time medians, numpy/OpenBLAS
 * timed in the same minutes) is written down in {@code VectorInt8Kernels} and
 * {@code VectorInt4Kernels}: the lazily widened shift kernel won the int8 dot products (since
 * replaced by an AND-and-corrections split, see {@code VectorInt8Kernels}); GEMV 4096 x 4096
 * first ran 2 to 2.5x faster than OpenBLAS SGEMV in INT8 and 1.5x in INT4. The {@code dot*}
 * variants read {@code Int4Matrix.packed()}, the file layout, not the kernels' in-memory one.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp cli/target/whittle.jar
 * org.openjdk.jmh.Main IntKernel}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class IntKernelBenchmark {

    private static final int N = 4096, K = 4096;
    private static final int GM = 1024, GN = 1024, GK = 256;

    @Param({"1"})
    public int threads;

    /** Batch rows for the lenet-300-100 first-layer shape (300 x 784). */
    @Param({"64"})
    public int batch;

    // GEMV operands
    private byte[] w8;         // [N x K] int8, row-major, values in [-127, 127]
    private short[] w16;       // the same, pre-widened (for the plain short[] loop)
    private Int8Matrix packed8;
    private Int4Matrix packed4;
    private byte[] w4;         // packed4's bytes, [N x K/2]
    private float[] s4, sx4;   // weight scales [N x K/64], activation scales [K/64]
    private short[] xp4;       // int8 activations in the nibble order of one 256-bit load
    private float[] w32;       // FP32 weights of the same shape
    private byte[] x8;
    private short[] x16, x16even, x16odd;
    private float[] x32, xf;   // x32: FP32 activations; xf: the int8 activations as floats
    private byte[] y8;
    private int[] yInt;
    private float[] y32;
    private Int8Requantization rq;

    // GEMM operands
    private Int8Matrix gemmW8;
    private Int4Matrix gemmW4;
    private byte[] gemmX8, gemmY8;
    private float[] gemmA, gemmB, gemmC;
    private Int8Requantization gemmRq;

    // lenet-300-100's first layer, 300 x 784, at a batch of `batch`
    private Int8Matrix lenetW8;
    private byte[] lenetX8, lenetY8;
    private float[] lenetX, lenetW, lenetY;
    private Int8Requantization lenetRq;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(42);
        w8 = new byte[N * K];
        w16 = new short[N * K];
        w32 = new float[N * K];
        for (int i = 0; i < w8.length; i++) {
            w8[i] = (byte) r.nextInt(-127, 128);
            w16[i] = w8[i];
            w32[i] = (float) r.nextDouble(-1, 1);
        }
        packed8 = Int8Matrix.pack(w8, 0, N, K);
        byte[] v4 = new byte[N * K];
        for (int i = 0; i < v4.length; i++) v4[i] = (byte) r.nextInt(-8, 8);
        float[] s4 = new float[N * K / 64];
        java.util.Arrays.fill(s4, 0.01f);
        packed4 = Int4Matrix.pack(v4, 0, N, K, 64, s4);
        this.s4 = s4;
        w4 = packed4.packed();
        sx4 = new float[K / 64];
        java.util.Arrays.fill(sx4, 0.02f);
        xp4 = new short[K];
        for (int b = 0; b < K; b += 64) {
            for (int rr = 0; rr < 4; rr++) {
                for (int j = 0; j < 16; j++) xp4[b + 16 * rr + j] = (short) r.nextInt(-127, 128);
            }
        }
        x8 = new byte[K];
        x16 = new short[K];
        x16even = new short[K / 2];
        x16odd = new short[K / 2];
        x32 = new float[K];
        xf = new float[K];
        for (int p = 0; p < K; p++) {
            x8[p] = (byte) r.nextInt(-128, 128);
            x16[p] = x8[p];
            xf[p] = x8[p];
            x32[p] = (float) r.nextGaussian();
        }
        for (int b = 0; b < K; b += 32) { // the byte-pair (shift trick) order: evens then odds of each 32
            for (int j = 0; j < 16; j++) {
                x16even[b / 2 + j] = x8[b + 2 * j];
                x16odd[b / 2 + j] = x8[b + 2 * j + 1];
            }
        }
        y8 = new byte[N];
        yInt = new int[N];
        y32 = new float[Math.max(N, GM * GN)];
        float[] ws = new float[N];
        java.util.Arrays.fill(ws, 0.01f);
        rq = Int8Requantization.of(0.02f, ws, 2f, 0, null, true);

        byte[] gw = new byte[GN * GK];
        for (int i = 0; i < gw.length; i++) gw[i] = (byte) r.nextInt(-127, 128);
        gemmW8 = Int8Matrix.pack(gw, 0, GN, GK);
        float[] gw4 = new float[GN * GK];
        for (int i = 0; i < gw4.length; i++) gw4[i] = (float) r.nextGaussian();
        gemmW4 = Int4Matrix.quantize(gw4, 0, GN, GK, 64);
        gemmX8 = new byte[GM * GK];
        for (int i = 0; i < gemmX8.length; i++) gemmX8[i] = (byte) r.nextInt(-128, 128);
        gemmY8 = new byte[GM * GN];
        gemmA = new float[GM * GK];
        gemmB = new float[GN * GK];
        for (int i = 0; i < gemmA.length; i++) gemmA[i] = (float) r.nextGaussian();
        for (int i = 0; i < gemmB.length; i++) gemmB[i] = (float) r.nextGaussian();
        gemmC = new float[GM * GN];
        float[] gs = new float[GN];
        java.util.Arrays.fill(gs, 0.01f);
        gemmRq = Int8Requantization.of(0.02f, gs, 1f, 0, null, true);

        byte[] lw = new byte[300 * 784];
        lenetW = new float[300 * 784];
        for (int i = 0; i < lw.length; i++) {
            lw[i] = (byte) r.nextInt(-127, 128);
            lenetW[i] = lw[i] * 0.01f;
        }
        lenetW8 = Int8Matrix.pack(lw, 0, 300, 784);
        lenetX8 = new byte[batch * 784];
        lenetX = new float[batch * 784];
        for (int i = 0; i < lenetX8.length; i++) {
            lenetX8[i] = (byte) r.nextInt(-128, 128);
            lenetX[i] = lenetX8[i] * 0.02f;
        }
        lenetY8 = new byte[batch * 300];
        lenetY = new float[batch * 300];
        float[] ls = new float[300];
        java.util.Arrays.fill(ls, 0.01f);
        lenetRq = Int8Requantization.of(0.02f, ls, 0.5f, -128, null, true);
    }

    @Benchmark
    public byte[] int8Lenet() {
        Kernels.int8().gemm(batch, lenetX8, 0, 3, lenetW8, lenetRq, lenetY8, 0);
        return lenetY8;
    }

    @Benchmark
    public float[] fp32Lenet() {
        Kernels.fp32().gemmNTBias(batch, 300, 784, lenetX, 0, lenetW, 0, null, lenetY, 0, true);
        return lenetY;
    }

    // ---- the product kernels, as layers call them ---------------------------------------------

    @Benchmark
    public byte[] int8Gemv() {
        Kernels.int8().gemm(1, x8, 0, 3, packed8, rq, y8, 0);
        return y8;
    }

    @Benchmark
    public float[] int4GemvA8() {
        Kernels.int4().gemmA8(1, x32, 0, packed4, null, false, y32, 0);
        return y32;
    }

    @Benchmark
    public float[] int4GemvF32() {
        Kernels.int4().gemm(1, x32, 0, packed4, null, false, y32, 0);
        return y32;
    }

    @Benchmark
    public float[] fp32Gemv() {
        Kernels.fp32().gemv(N, K, w32, 0, x32, 0, y32, 0, false);
        return y32;
    }

    @Benchmark
    public byte[] int8Gemm() {
        Kernels.int8().gemm(GM, gemmX8, 0, 3, gemmW8, gemmRq, gemmY8, 0);
        return gemmY8;
    }

    @Benchmark
    public float[] int4Gemm() {
        Kernels.int4().gemm(GM, gemmA, 0, gemmW4, null, false, y32, 0);
        return y32;
    }

    @Benchmark
    public float[] fp32Gemm() {
        Kernels.fp32().gemmNT(GM, GN, GK, gemmA, 0, gemmB, 0, gemmC, 0, false);
        return gemmC;
    }

    // ---- the ways of writing an int8 dot product (GEMV 4096 x 4096, one row at a time) ---------

    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

    /** Lucene's 256-bit int8 dot product: 8 bytes of each side widened to shorts, multiplied, widened to ints. */
    @Benchmark
    public int[] dotWidenEach() {
        for (int j = 0; j < N; j++) {
            IntVector acc = IntVector.zero(I256);
            int o = j * K;
            for (int p = 0; p < K; p += 8) {
                ShortVector a = (ShortVector) ByteVector.fromArray(B64, w8, o + p).convertShape(VectorOperators.B2S, S128, 0);
                ShortVector b = (ShortVector) ByteVector.fromArray(B64, x8, p).convertShape(VectorOperators.B2S, S128, 0);
                acc = acc.add(a.mul(b).convertShape(VectorOperators.S2I, I256, 0));
            }
            yInt[j] = acc.reduceLanes(VectorOperators.ADD);
        }
        return yInt;
    }

    /** 16 weights widened to 16 shorts, activations pre-widened, each product vector widened to ints. */
    @Benchmark
    public int[] dotWidenProducts() {
        for (int j = 0; j < N; j++) {
            IntVector a0 = IntVector.zero(I256), a1 = a0;
            int o = j * K;
            for (int p = 0; p < K; p += 16) {
                ShortVector q = ((ShortVector) ByteVector.fromArray(B128, w8, o + p).convertShape(VectorOperators.B2S, S256, 0))
                        .mul(ShortVector.fromArray(S256, x16, p));
                a0 = a0.add(q.convertShape(VectorOperators.S2I, I256, 0));
                a1 = a1.add(q.convertShape(VectorOperators.S2I, I256, 1));
            }
            yInt[j] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
        return yInt;
    }

    /** Two product vectors summed as shorts (|w| <= 127 keeps it in 16 bits), then widened: one row at a time. */
    @Benchmark
    public int[] dotPairSum() {
        for (int j = 0; j < N; j++) {
            IntVector a0 = IntVector.zero(I256), a1 = a0;
            int o = j * K;
            for (int p = 0; p < K; p += 32) {
                ShortVector w0 = (ShortVector) ByteVector.fromArray(B128, w8, o + p).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromArray(B128, w8, o + p + 16).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector q = w0.mul(ShortVector.fromArray(S256, x16, p)).add(w1.mul(ShortVector.fromArray(S256, x16, p + 16)));
                a0 = a0.add(q.convertShape(VectorOperators.S2I, I256, 0));
                a1 = a1.add(q.convertShape(VectorOperators.S2I, I256, 1));
            }
            yInt[j] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
        return yInt;
    }

    /** As {@link #dotPairSum}, but 32 bytes read as 16 shorts and split into even/odd bytes by 16-bit shifts. */
    @Benchmark
    public int[] dotPairSumShift() {
        for (int j = 0; j < N; j++) {
            IntVector a0 = IntVector.zero(I256), a1 = a0;
            int o = j * K;
            for (int p = 0; p < K; p += 32) {
                ShortVector s = ByteVector.fromArray(B256, w8, o + p).reinterpretAsShorts();
                ShortVector even = s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                ShortVector odd = s.lanewise(VectorOperators.ASHR, 8);
                ShortVector q = even.mul(ShortVector.fromArray(S256, x16even, p / 2))
                        .add(odd.mul(ShortVector.fromArray(S256, x16odd, p / 2)));
                a0 = a0.add(q.convertShape(VectorOperators.S2I, I256, 0));
                a1 = a1.add(q.convertShape(VectorOperators.S2I, I256, 1));
            }
            yInt[j] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
        return yInt;
    }

    /**
     * As {@link #dotPairSumShift}, but the pair sums are widened lazily: biased by 2^15 and read as
     * ints, whose high and low halves are summed apart (shifts only, no conversions).
     */
    @Benchmark
    public int[] dotLazyShift() {
        for (int j = 0; j < N; j++) {
            IntVector all = IntVector.zero(I256), hi = all;
            int o = j * K;
            for (int p = 0; p < K; p += 32) {
                ShortVector s = ByteVector.fromArray(B256, w8, o + p).reinterpretAsShorts();
                IntVector v = s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8)
                        .mul(ShortVector.fromArray(S256, x16even, p / 2))
                        .add(s.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(S256, x16odd, p / 2)))
                        .lanewise(VectorOperators.XOR, (short) 0x8000).reinterpretAsInts();
                all = all.add(v);
                hi = hi.add(v.lanewise(VectorOperators.LSHR, 16));
            }
            int h = hi.reduceLanes(VectorOperators.ADD);
            yInt[j] = h + (all.reduceLanes(VectorOperators.ADD) - (h << 16)) - (16 << 15) * (K / 32);
        }
        return yInt;
    }

    /** Dequantise in registers: 8 bytes to 8 floats, FMA with the activations as floats (exact: sums stay below 2^24 per lane). */
    @Benchmark
    public int[] dotFloatFma() {
        for (int j = 0; j < N; j++) {
            FloatVector a0 = FloatVector.zero(F256), a1 = a0, a2 = a0, a3 = a0;
            int o = j * K;
            for (int p = 0; p < K; p += 32) {
                a0 = f(w8, o + p).fma(FloatVector.fromArray(F256, xf, p), a0);
                a1 = f(w8, o + p + 8).fma(FloatVector.fromArray(F256, xf, p + 8), a1);
                a2 = f(w8, o + p + 16).fma(FloatVector.fromArray(F256, xf, p + 16), a2);
                a3 = f(w8, o + p + 24).fma(FloatVector.fromArray(F256, xf, p + 24), a3);
            }
            IntVector s = (IntVector) a0.convert(VectorOperators.F2I, 0);
            s = s.add(a1.convert(VectorOperators.F2I, 0)).add(a2.convert(VectorOperators.F2I, 0)).add(a3.convert(VectorOperators.F2I, 0));
            yInt[j] = s.reduceLanes(VectorOperators.ADD);
        }
        return yInt;
    }

    private static FloatVector f(byte[] w, int at) {
        return (FloatVector) ByteVector.fromArray(B64, w, at).convertShape(VectorOperators.B2F, F256, 0);
    }

    /** A plain loop over pre-widened short[] weights: whatever C2's auto-vectoriser makes of it (2x the bytes). */
    @Benchmark
    public int[] dotShortLoop() {
        for (int j = 0; j < N; j++) {
            int o = j * K, s = 0;
            for (int p = 0; p < K; p++) s += w16[o + p] * x16[p];
            yInt[j] = s;
        }
        return yInt;
    }

    /** A plain loop over the bytes. */
    @Benchmark
    public int[] dotByteLoop() {
        for (int j = 0; j < N; j++) {
            int o = j * K, s = 0;
            for (int p = 0; p < K; p++) s += w8[o + p] * x8[p];
            yInt[j] = s;
        }
        return yInt;
    }

    // ---- W4A8 group sums: reduced exactly per group, or kept in float lanes ---------------------

    private static ShortVector nib(ShortVector s, int r) {
        return r == 3 ? s.lanewise(VectorOperators.ASHR, 12)
                : s.lanewise(VectorOperators.LSHL, 12 - 4 * r).lanewise(VectorOperators.ASHR, 12);
    }

    private ShortVector products4(int at, int xb) {
        ShortVector s = ByteVector.fromArray(B256, w4, at).reinterpretAsShorts();
        return nib(s, 0).mul(ShortVector.fromArray(S256, xp4, xb)).add(nib(s, 1).mul(ShortVector.fromArray(S256, xp4, xb + 16)))
                .add(nib(s, 2).mul(ShortVector.fromArray(S256, xp4, xb + 32)).add(nib(s, 3).mul(ShortVector.fromArray(S256, xp4, xb + 48))));
    }

    /** Each group's 16 lanes widened and reduced to one exact int, scaled in scalar float (what the kernel does). */
    @Benchmark
    public float[] a8GroupReduce() {
        int groups = K / 64;
        for (int j = 0; j < N; j++) {
            float acc = 0f;
            for (int g = 0; g < groups; g++) {
                ShortVector p = products4(j * (K / 2) + g * 32, g * 64);
                int d = ((IntVector) p.convertShape(VectorOperators.S2I, I256, 0)).add(p.convertShape(VectorOperators.S2I, I256, 1))
                        .reduceLanes(VectorOperators.ADD);
                acc += d * (s4[j * groups + g] * sx4[g]);
            }
            y32[j] = acc;
        }
        return y32;
    }

    /** Each group's lanes converted to float and FMA'd with the group scale: one lane sum per row. */
    @Benchmark
    public float[] a8FloatLanes() {
        int groups = K / 64;
        for (int j = 0; j < N; j++) {
            FloatVector acc = FloatVector.zero(F256);
            for (int g = 0; g < groups; g++) {
                ShortVector p = products4(j * (K / 2) + g * 32, g * 64);
                IntVector d = ((IntVector) p.convertShape(VectorOperators.S2I, I256, 0)).add(p.convertShape(VectorOperators.S2I, I256, 1));
                acc = ((FloatVector) d.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, s4[j * groups + g] * sx4[g]), acc);
            }
            float t = 0f;
            for (int i = 0; i < 8; i++) t += acc.lane(i);
            y32[j] = t;
        }
        return y32;
    }
}
