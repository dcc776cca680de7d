package dev.whittle.bench;

import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Int8Kernels;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.Parallel;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.SparseFilters;
import dev.whittle.kernels.SparseKernels;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * The kernels a small INT8 model runs at batch 1 once its sums are exact floats (see the
 * engine's {@code QuantizedConv2d} and {@code IntegerProduct}), each against what it replaced,
 * on the shapes of the compressed {@code lenet5} (fewer-filters recipe):
 * <ul>
 * <li>{@code conv*}: a pruned convolution over its taps with the sums left in the kernel's planes
 *     ({@link SparseKernels#conv2dSparsePlanes}) against the same with every row copied out
 *     ({@link SparseKernels#conv2dSparse}) and the dense direct convolution;
 * <li>{@code gemv*}: int8 weights widened in registers ({@link Int8Kernels#gemvWidened}) against
 *     the FP32 GEMV of the same weights stored as floats;
 * <li>{@code epilogue*}: one requantize pass ({@link QuantKernels#requantize}) against fill +
 *     axpy, ReLU and quantize.
 * </ul>
 * One thread. Run with {@code org.openjdk.jmh.Main SmallIntegerLayerBenchmark}, or this class's
 * {@link #main} for the interleaved comparison (median of rounds, each timing every variant).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SmallIntegerLayerBenchmark {

    /** "outC:inC:size:kernel:pad:density": the compressed lenet5's two convolutions (JMH splits {@code -p} values at commas). */
    @Param({"4:1:28:5:2:0.63", "10:4:14:5:0:0.42"})
    public String conv;

    /** "rowsxcols": its fully connected layers and lenet5's first. */
    @Param({"72x250", "50x72", "120x400"})
    public String linear;

    private Cases cases;

    @Setup
    public void setup() {
        Parallel.setThreads(1);
        cases = new Cases(conv, linear, 5);
    }

    @Benchmark
    public float[] convPlanes() {
        cases.convPlanes.run();
        return cases.planes;
    }

    @Benchmark
    public float[] convCompact() {
        cases.convCompact.run();
        return cases.compact;
    }

    @Benchmark
    public float[] convDirect() {
        cases.convDirect.run();
        return cases.compact;
    }

    @Benchmark
    public float[] gemvWidened() {
        cases.gemvWidened.run();
        return cases.y;
    }

    @Benchmark
    public float[] gemvFloat() {
        cases.gemvFloat.run();
        return cases.y;
    }

    @Benchmark
    public byte[] epilogueFused() {
        cases.epilogueFused.run();
        return cases.out;
    }

    @Benchmark
    public byte[] epilogueSteps() {
        cases.epilogueSteps.run();
        return cases.out;
    }

    /** The operands (int8 values as floats, so every sum is exact) and the variants to compare. */
    static final class Cases {
        final float[] planes, compact, y, real;
        final byte[] out;
        final Runnable convPlanes, convCompact, convDirect, gemvWidened, gemvFloat, epilogueFused, epilogueSteps;

        Cases(String conv, String linear, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            String[] c = conv.split(":");
            int outC = Integer.parseInt(c[0]), inC = Integer.parseInt(c[1]), size = Integer.parseInt(c[2]);
            int k = Integer.parseInt(c[3]), pad = Integer.parseInt(c[4]);
            double density = Double.parseDouble(c[5]);
            float[] filters = new float[outC * inC * k * k];
            for (int i = 0; i < filters.length; i++) if (r.nextDouble() < density) filters[i] = r.nextInt(-127, 128);
            float[] x = new float[inC * size * size];
            for (int i = 0; i < x.length; i++) x[i] = r.nextInt(-128, 128);
            SparseFilters f = SparseFilters.of(filters, outC, inC, size, size, k, pad);
            float[] padded = new float[f.paddedLength()], plane = new float[f.planeLength()];
            f.fillPadded(x, 0, padded);
            int outSize = f.outputHeight() * f.outputWidth();
            planes = new float[outC * f.planeLength()];
            compact = new float[outC * outSize];
            SparseKernels sk = Kernels.sparse();
            FloatKernels fk = Kernels.fp32();
            QuantKernels qk = Kernels.quant();
            float[] zeros = new float[outC];
            convPlanes = () -> sk.conv2dSparsePlanes(f, padded, planes, 0);
            convCompact = () -> sk.conv2dSparse(f, padded, plane, compact, 0);
            convDirect = () -> fk.conv2dDirect(x, 0, inC, size, size, filters, zeros, outC, k, pad, compact, 0);

            String[] l = linear.split("x");
            int rows = Integer.parseInt(l[0]), cols = Integer.parseInt(l[1]);
            byte[] w8 = new byte[rows * cols];
            float[] wf = new float[rows * cols], xl = new float[cols];
            for (int i = 0; i < w8.length; i++) wf[i] = w8[i] = (byte) r.nextInt(-127, 128);
            for (int i = 0; i < cols; i++) xl[i] = r.nextInt(-128, 128);
            y = new float[rows];
            Int8Kernels ik = Kernels.int8();
            gemvWidened = () -> ik.gemvWidened(rows, cols, w8, 0, xl, 0, y, 0);
            gemvFloat = () -> fk.gemv(rows, cols, wf, 0, xl, 0, y, 0, false);

            // one channel of the first convolution's output: 784 sums to int8
            int n = 784;
            float[] sums = new float[n];
            for (int i = 0; i < n; i++) sums[i] = r.nextInt(-40_000, 40_000);
            real = new float[n];
            out = new byte[n];
            float m = 3e-4f, b = 0.1f, s = 0.05f;
            epilogueFused = () -> qk.requantize(sums, 0, n, m, b, true, s, -5, QuantRange.INT8, out, 0);
            epilogueSteps = () -> {
                java.util.Arrays.fill(real, b);
                fk.axpy(m, sums, 0, real, 0, n);
                fk.relu(real, real, n);
                qk.quantize(real, 0, n, s, -5, QuantRange.INT8, out, 0);
            };
        }
    }

    /** The interleaved comparison: {@code [rounds]} (default 7); prints the median microseconds of each variant. */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        Parallel.setThreads(1);
        System.out.println("kernels " + Kernels.describe() + ", 1 thread, median of " + rounds + " interleaved rounds (us)");
        String[] convs = {"4:1:28:5:2:0.63", "10:4:14:5:0:0.42"}, linears = {"72x250", "50x72", "120x400"};
        for (int i = 0; i < convs.length; i++) {
            Cases cs = new Cases(convs[i], linears[i], 5);
            String[] names = {"conv planes", "conv compact", "conv direct", "gemv widened", "gemv float", "epilogue fused", "epilogue steps"};
            Runnable[] ops = {cs.convPlanes, cs.convCompact, cs.convDirect, cs.gemvWidened, cs.gemvFloat, cs.epilogueFused, cs.epilogueSteps};
            double[][] t = new double[ops.length][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int o = 0; o < ops.length; o++) t[o][round] = Timing.medianSeconds(ops[o], 0.05, 0.1);
            }
            System.out.println("conv " + convs[i] + ", linear " + linears[i] + ":");
            for (int o = 0; o < ops.length; o++) {
                java.util.Arrays.sort(t[o]);
                System.out.printf(Locale.ROOT, "  %-16s %8.2f%n", names[o], t[o][rounds / 2] * 1e6);
            }
        }
    }
}
