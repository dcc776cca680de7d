package dev.whittle.bench;

import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.ScalarFloatKernels;
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
 * JMH benchmarks of the FP32 kernels of {@link FloatKernels}: the three GEMM layouts, the fused
 * Linear forward (bias and ReLU in the epilogue), GEMV, and the vector and element-wise kernels
 * (dot, axpy, bias, column sums, ReLU and its gradient, softmax and log-softmax, these over the
 * {@code m x n} output), on the shapes {@code whittle bench kernels} reports (squares and a
 * lenet-300-100 / lenet5 training step at batch 128), Vector API against the scalar twin where
 * that finishes in reasonable time. The convolution's kernels (direct, im2col and its relatives,
 * pooling) are in {@link ConvKernelBenchmark}.
 * Run: {@code java --add-modules jdk.incubator.vector -cp cli/target/whittle.jar org.openjdk.jmh.Main Fp32Kernel}
 * (add {@code -p impl=vector} to skip the twin, {@code -t 2} is not needed: the kernels use their own pool).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Fp32KernelBenchmark {

    /**
     * "mxnxk" (as {@code whittle bench kernels} writes shapes; JMH splits {@code -p} values at commas):
     * squares, lenet-300-100 fc1 and fc3, the lenet5 convolutions per sample.
     */
    @Param({"1024x1024x1024", "256x256x256", "128x300x784", "128x10x100", "6x784x25", "16x100x150", "25x6x784"})
    public String shape;

    @Param({"vector", "scalar"})
    public String impl;

    private FloatKernels k;
    private int m, n, kk;
    private float[] a, b, c, d, bias, sums, x, y;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        kk = Integer.parseInt(s[2]);
        k = impl.equals("scalar") ? new ScalarFloatKernels() : Kernels.fp32();
        SplittableRandom r = new SplittableRandom(42);
        a = fill(r, m * kk);
        b = fill(r, kk * n);
        c = new float[m * n];
        d = fill(r, m * n);
        bias = fill(r, n);
        sums = new float[n];
        x = fill(r, kk);
        y = new float[m];
    }

    /** {@code n} floats uniform in [-1, 1). */
    static float[] fill(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-1, 1);
        return v;
    }

    /** A.B (a Linear layer's input gradient, a convolution's forward). */
    @Benchmark
    public float[] gemmNN() {
        k.gemmNN(m, n, kk, a, 0, b, 0, c, 0, false);
        return c;
    }

    /** A.B^T (a Linear layer's forward). */
    @Benchmark
    public float[] gemmNT() {
        k.gemmNT(m, n, kk, a, 0, b, 0, c, 0, false);
        return c;
    }

    /** A^T.B, accumulating (a Linear layer's weight gradient). */
    @Benchmark
    public float[] gemmTN() {
        k.gemmTN(m, n, kk, a, 0, b, 0, c, 0, true);
        return c;
    }

    /** A.B^T + bias, ReLU, in one sweep. */
    @Benchmark
    public float[] gemmNTBiasRelu() {
        k.gemmNTBias(m, n, kk, a, 0, b, 0, bias, c, 0, true);
        return c;
    }

    /** y = A.x with A of m x k. */
    @Benchmark
    public float[] gemv() {
        k.gemv(m, kk, a, 0, x, 0, y, 0, false);
        return y;
    }

    /** ReLU over the m x n output. */
    @Benchmark
    public float[] relu() {
        k.relu(c, c, m * n);
        return c;
    }

    /** The dot product of two m x n arrays read as vectors. */
    @Benchmark
    public float dot() {
        return k.dot(c, 0, d, 0, m * n);
    }

    /** {@code c += 0.5 d} over m x n floats. */
    @Benchmark
    public float[] axpy() {
        k.axpy(0.5f, d, 0, c, 0, m * n);
        return c;
    }

    /** Bias added to every row of the m x n output. */
    @Benchmark
    public float[] addBias() {
        k.addBias(m, n, bias, c, 0);
        return c;
    }

    /** Column sums of the m x n output (a Linear layer's bias gradient). */
    @Benchmark
    public float[] columnSums() {
        k.columnSums(m, n, d, 0, sums, false);
        return sums;
    }

    /** The ReLU's gradient over the m x n output. */
    @Benchmark
    public float[] reluBackward() {
        k.reluBackward(d, d, c, m * n);
        return c;
    }

    /** Softmax over the m rows of n. */
    @Benchmark
    public float[] softmax() {
        k.softmax(m, n, d, c);
        return c;
    }

    /** Log-softmax over the m rows of n (the cross-entropy's). */
    @Benchmark
    public float[] logSoftmax() {
        k.logSoftmax(m, n, d, c);
        return c;
    }
}
