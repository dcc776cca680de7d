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
 * The FP32 kernels on the GEMM shapes of one lenet-300-100 training step at batch 128 (forward
 * A.B^T, weight gradient A^T.B, input gradient A.B), Vector API against the scalar twin.
 * Run: {@code java --add-modules jdk.incubator.vector -cp cli/target/whittle.jar org.openjdk.jmh.Main Fp32Kernel}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Fp32KernelBenchmark {

    /** "m,n,k": the first layer of lenet-300-100 at batch 128, and a square 256. */
    @Param({"128,300,784", "256,256,256"})
    public String shape;

    @Param({"vector", "scalar"})
    public String impl;

    private FloatKernels k;
    private int m, n, kk;
    private float[] a, b, c, x, y;

    @Setup
    public void setup() {
        String[] s = shape.split(",");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        kk = Integer.parseInt(s[2]);
        k = impl.equals("scalar") ? new ScalarFloatKernels() : Kernels.fp32();
        SplittableRandom r = new SplittableRandom(42);
        int big = Math.max(m, Math.max(n, kk));
        a = fill(r, big * big);
        b = fill(r, big * big);
        c = new float[big * big];
        x = fill(r, n);
        y = new float[big];
    }

    private static float[] fill(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-1, 1);
        return v;
    }

    @Benchmark
    public float[] forwardNT() {
        k.gemmNT(m, n, kk, a, 0, b, 0, c, 0, false);
        return c;
    }

    @Benchmark
    public float[] weightGradTN() {
        k.gemmTN(n, kk, m, a, 0, b, 0, c, 0, true);
        return c;
    }

    @Benchmark
    public float[] inputGradNN() {
        k.gemmNN(m, kk, n, a, 0, b, 0, c, 0, false);
        return c;
    }

    @Benchmark
    public float[] gemv() {
        k.gemv(kk, n, a, 0, x, 0, y, 0, false);
        return y;
    }
}
