package dev.whittle.bench;

import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;
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
 * SGEMV (batch-1 inference): a matrix that streams from memory (4096 x 4096, 64 MB) and ones that
 * sit in L2 (the layers of lenet-300-100). Run with {@code org.openjdk.jmh.Main GemvBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemvBenchmark {

    /** "rowsxcols" (JMH splits {@code -p} values at commas). */
    @Param({"4096x4096", "300x784", "100x300", "10x100"})
    public String shape;

    private final FloatKernels k = Kernels.fp32();
    private int m, n;
    private float[] a, x, y;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        SplittableRandom r = new SplittableRandom(7);
        a = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-1, 1);
        y = new float[m];
    }

    @Benchmark
    public float[] gemv() {
        k.gemv(m, n, a, 0, x, 0, y, 0, false);
        return y;
    }
}
