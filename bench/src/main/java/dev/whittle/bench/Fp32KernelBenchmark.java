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
 * JMH benchmarks of every FP32 kernel of {@link FloatKernels}: the three GEMM layouts, the fused
 * Linear forward (bias and ReLU in the epilogue), GEMV, and the element-wise kernels, on the
 * shapes {@code whittle bench kernels} reports (squares and a lenet-300-100 / lenet5 training
 * step at batch 128), Vector API against the scalar twin where that finishes in reasonable time.
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

    /** "m,n,k": squares, lenet-300-100 fc1 and fc3, the lenet5 convolutions per sample. */
    @Param({"1024,1024,1024", "256,256,256", "128,300,784", "128,10,100", "6,784,25", "16,100,150", "25,6,784"})
    public String shape;

    @Param({"vector", "scalar"})
    public String impl;

    private FloatKernels k;
    private int m, n, kk;
    private float[] a, b, c, bias, x, y;

    @Setup
    public void setup() {
        String[] s = shape.split(",");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        kk = Integer.parseInt(s[2]);
        k = impl.equals("scalar") ? new ScalarFloatKernels() : Kernels.fp32();
        SplittableRandom r = new SplittableRandom(42);
        a = fill(r, m * kk);
        b = fill(r, kk * n);
        c = new float[m * n];
        bias = fill(r, n);
        x = fill(r, kk);
        y = new float[m];
    }

    private static float[] fill(SplittableRandom r, int n) {
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
}
