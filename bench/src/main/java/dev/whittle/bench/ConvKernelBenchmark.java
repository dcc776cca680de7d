package dev.whittle.bench;

import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Im2col;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.Parallel;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the FP32 convolution kernels as the engine's {@code Conv2d} runs them: sample
 * by sample through a batch of {@link #BATCH} (different images and gradients, so the operands are
 * not all sitting in L1), stride 1, times reported per sample:
 * <ul>
 * <li>{@code forwardDirect}: {@link FloatKernels#conv2dDirect};
 * <li>{@code forwardLowered}: the bias written out, {@link Im2col#im2col} and
 *     {@link FloatKernels#gemmNN} accumulating onto it, which gives the same bits (checked when the
 *     cases are built), so the two are the choice {@code Conv2d} makes with its
 *     {@code DIRECT_MAX_OUT};
 * <li>{@code im2col}, {@code im2row}, {@code col2im}: the lowering alone;
 * <li>{@code weightGradient}: {@link Im2col#im2row} and {@code dW += dY . rows} (gemmNN), summed over the batch;
 * <li>{@code weightGradientDirect}: {@link FloatKernels#conv2dWeightGradient}, the same bits (checked);
 * <li>{@code inputGradient}: {@code W^T . dY} (gemmTN) and {@link Im2col#col2im} onto a cleared image;
 * <li>{@code maxPool}: {@link FloatKernels#maxPool2x2} over the output.
 * </ul>
 * Shapes are {@code "inChannels:outChannels:size:kernel:pad"}: LeNet-5's two convolutions, the same
 * inputs with 8 filters (the most the direct weight gradient takes; the direct forward pass takes up
 * to 12), and 3x3 padded ones with 8 and 32 filters.
 * One thread. Run with {@code org.openjdk.jmh.Main ConvKernelBenchmark}, or this class's {@link #main}
 * for an interleaved comparison (medians of rounds, each timing every piece of every shape) that also
 * prints how much faster the direct forward pass and the direct weight gradient are than the lowered ones.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@OperationsPerInvocation(ConvKernelBenchmark.BATCH)
public class ConvKernelBenchmark {

    /** Samples per call: each piece runs over a batch, sample by sample, as in training. */
    static final int BATCH = 32;
    /** The shapes of {@link #main} and of the JMH runs. */
    static final String[] SHAPES = {"1:6:28:5:2", "6:16:14:5:0", "1:8:28:5:2", "6:8:14:5:0", "3:8:32:3:1", "3:32:32:3:1", "16:32:14:3:1"};

    /** "in:out:size:kernel:pad" (JMH splits {@code -p} values at commas): {@link #SHAPES}. */
    @Param({"1:6:28:5:2", "6:16:14:5:0", "1:8:28:5:2", "6:8:14:5:0", "3:8:32:3:1", "3:32:32:3:1", "16:32:14:3:1"})
    public String shape;

    private Cases cases;

    @Setup
    public void setup() {
        Parallel.setThreads(1);
        cases = new Cases(shape, 42);
    }

    @Benchmark
    public float[] forwardDirect() {
        cases.forwardDirect.run();
        return cases.y;
    }

    @Benchmark
    public float[] forwardLowered() {
        cases.forwardLowered.run();
        return cases.y;
    }

    @Benchmark
    public float[] im2col() {
        cases.im2col.run();
        return cases.cols;
    }

    @Benchmark
    public float[] im2row() {
        cases.im2row.run();
        return cases.cols;
    }

    @Benchmark
    public float[] col2im() {
        cases.col2im.run();
        return cases.dx;
    }

    @Benchmark
    public float[] weightGradient() {
        cases.weightGradient.run();
        return cases.dw;
    }

    @Benchmark
    public float[] weightGradientDirect() {
        cases.weightGradientDirect.run();
        return cases.dw;
    }

    @Benchmark
    public float[] inputGradient() {
        cases.inputGradient.run();
        return cases.dx;
    }

    @Benchmark
    public float[] maxPool() {
        cases.maxPool.run();
        return cases.pooled;
    }

    /** One shape's operands, outputs and timed pieces, over a batch of {@link #BATCH} samples. */
    static final class Cases {
        final int inC, outC, size, kernel, pad, out, patch, plane, inSize, outSize;
        final float[] x, w, bias, y, cols, dy, dw, dcols, dx, pooled;
        final int[] argmax;
        final Runnable forwardDirect, forwardLowered, im2col, im2row, col2im, weightGradient, weightGradientDirect, inputGradient, maxPool;

        Cases(String shape, long seed) {
            String[] s = shape.split(":");
            if (s.length != 5) throw new IllegalArgumentException("shape: inChannels:outChannels:size:kernel:pad; got '" + shape + "'");
            inC = Integer.parseInt(s[0]);
            outC = Integer.parseInt(s[1]);
            size = Integer.parseInt(s[2]);
            kernel = Integer.parseInt(s[3]);
            pad = Integer.parseInt(s[4]);
            out = Im2col.outputSize(size, kernel, 1, pad);
            patch = inC * kernel * kernel;
            plane = out * out;
            inSize = inC * size * size;
            outSize = outC * plane;
            SplittableRandom r = new SplittableRandom(seed);
            x = Fp32KernelBenchmark.fill(r, BATCH * inSize);
            w = Fp32KernelBenchmark.fill(r, outC * patch);
            bias = Fp32KernelBenchmark.fill(r, outC);
            dy = Fp32KernelBenchmark.fill(r, BATCH * outSize);
            y = new float[BATCH * outSize];
            cols = new float[patch * plane];
            dcols = new float[patch * plane];
            dw = new float[outC * patch];
            dx = new float[BATCH * inSize];
            pooled = new float[BATCH * outC * (out / 2) * (out / 2)];
            argmax = new int[pooled.length];
            FloatKernels k = Kernels.fp32();
            forwardDirect = () -> {
                for (int b = 0; b < BATCH; b++) k.conv2dDirect(x, b * inSize, inC, size, size, w, bias, outC, kernel, pad, y, b * outSize);
            };
            forwardLowered = () -> {
                for (int b = 0; b < BATCH; b++) {
                    int y0 = b * outSize;
                    for (int o = 0; o < outC; o++) Arrays.fill(y, y0 + o * plane, y0 + (o + 1) * plane, bias[o]);
                    Im2col.im2col(x, b * inSize, inC, size, size, kernel, 1, pad, cols, 0);
                    k.gemmNN(outC, plane, patch, w, 0, cols, 0, y, y0, true);
                }
            };
            im2col = () -> {
                for (int b = 0; b < BATCH; b++) Im2col.im2col(x, b * inSize, inC, size, size, kernel, 1, pad, cols, 0);
            };
            im2row = () -> {
                for (int b = 0; b < BATCH; b++) Im2col.im2row(x, b * inSize, inC, size, size, kernel, 1, pad, cols, 0);
            };
            col2im = () -> {
                for (int b = 0; b < BATCH; b++) {
                    Arrays.fill(dx, b * inSize, (b + 1) * inSize, 0f);
                    Im2col.col2im(dcols, 0, inC, size, size, kernel, 1, pad, dx, b * inSize);
                }
            };
            // summed over the batch, as Conv2d sums a group of samples
            weightGradient = () -> {
                for (int b = 0; b < BATCH; b++) {
                    Im2col.im2row(x, b * inSize, inC, size, size, kernel, 1, pad, cols, 0);
                    k.gemmNN(outC, patch, plane, dy, b * outSize, cols, 0, dw, 0, b > 0);
                }
            };
            weightGradientDirect = () -> {
                for (int b = 0; b < BATCH; b++) k.conv2dWeightGradient(x, b * inSize, inC, size, size, dy, b * outSize, outC, kernel, pad, dw, 0, b > 0);
            };
            inputGradient = () -> {
                for (int b = 0; b < BATCH; b++) {
                    k.gemmTN(patch, plane, outC, w, 0, dy, b * outSize, dcols, 0, false);
                    Arrays.fill(dx, b * inSize, (b + 1) * inSize, 0f);
                    Im2col.col2im(dcols, 0, inC, size, size, kernel, 1, pad, dx, b * inSize);
                }
            };
            maxPool = () -> k.maxPool2x2(y, out, out, 0, BATCH * outC, pooled, argmax);
            // the two forward passes are only a fair choice if they compute the same thing
            forwardDirect.run();
            float[] direct = y.clone();
            forwardLowered.run();
            if (!Arrays.equals(direct, y)) throw new IllegalStateException("shape " + shape + ": direct and lowered forward passes differ");
            weightGradientDirect.run();
            float[] directGradient = dw.clone();
            weightGradient.run();
            if (!Arrays.equals(directGradient, dw)) throw new IllegalStateException("shape " + shape + ": the two weight gradients differ");
            inputGradient.run();  // so that col2im, timed alone, folds a real gradient (the last sample's)
        }
    }

    /**
     * Every piece of every shape, taking turns round by round; prints the median microseconds per
     * sample and the direct forward pass's and weight gradient's speed against the lowered ones (above 1: direct is faster).
     * Arguments: rounds (default 15), then shapes (default {@link #SHAPES}).
     */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        String[] shapes = args.length > 1 ? Arrays.copyOfRange(args, 1, args.length) : SHAPES;
        Parallel.setThreads(1);
        String[] names = {"forward direct", "forward lowered", "im2col", "im2row", "col2im", "weight gradient", "wgrad direct", "input gradient", "max pool"};
        Cases[] cs = new Cases[shapes.length];
        for (int i = 0; i < shapes.length; i++) cs[i] = new Cases(shapes[i], 42);
        double[][][] t = new double[shapes.length][names.length][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < shapes.length; i++) {
                Runnable[] ops = ops(cs[i]);
                for (int o = 0; o < ops.length; o++) t[i][o][round] = Timing.medianSeconds(ops[o], round == 0 ? 0.3 : 0.02, 0.05);
            }
        }
        System.out.println("kernels " + Kernels.describe() + ", 1 thread, batches of " + BATCH + ", medians of " + rounds
                + " interleaved rounds (us per sample)");
        System.out.printf(Locale.ROOT, "%-17s", "in:out:size:k:pad");
        for (String n : names) System.out.printf(Locale.ROOT, " %15s", n);
        System.out.printf(Locale.ROOT, " %15s %15s%n", "fwd direct x", "wgrad direct x");
        for (int i = 0; i < shapes.length; i++) {
            double[] ratio = new double[rounds], gradientRatio = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                ratio[round] = t[i][1][round] / t[i][0][round];
                gradientRatio[round] = t[i][5][round] / t[i][6][round];
            }
            System.out.printf(Locale.ROOT, "%-17s", shapes[i]);
            for (int o = 0; o < names.length; o++) System.out.printf(Locale.ROOT, " %15.2f", KernelBench.median(t[i][o]) * 1e6 / BATCH);
            System.out.printf(Locale.ROOT, " %14.2fx %14.2fx%n", KernelBench.median(ratio), KernelBench.median(gradientRatio));
        }
    }

    /** The timed pieces of one shape, in the order of {@link #main}'s columns. */
    static Runnable[] ops(Cases c) {
        return new Runnable[] {c.forwardDirect, c.forwardLowered, c.im2col, c.im2row, c.col2im, c.weightGradient, c.weightGradientDirect, c.inputGradient, c.maxPool};
    }
}
