package dev.whittle.bench;

import dev.whittle.kernels.CsrMatrix;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.Parallel;
import dev.whittle.kernels.SparseKernels;
import java.util.Arrays;
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
 * Sparse (CSR) against dense forward passes of the Linear layers of lenet-300-100 (300x784 and
 * 100x300) at batch 1 ({@code spmv} vs {@code gemv}) and batch 64 ({@code spmmNT} vs
 * {@code gemmNTBias}), over densities: where sparse stops paying is
 * {@link SparseKernels#BREAK_EVEN_DENSITY_GEMV} / {@code _GEMM}. One thread.
 *
 * <p>Run with {@code org.openjdk.jmh.Main SparseKernelBenchmark}, or run this class's
 * {@link #main} for the interleaved sweep the constants were read from (each round times
 * sparse then dense at every density; the median of the rounds is kept, which a noisy shared host
 * needs more than JMH's separate forks).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SparseKernelBenchmark {

    /** "rowsxcols": the weight of a Linear layer, [out x in] (JMH splits {@code -p} values at commas). */
    @Param({"300x784", "100x300"})
    public String shape;

    @Param({"1", "64"})
    public int batch;

    @Param({"0.05", "0.1", "0.2", "0.3", "0.5"})
    public double density;

    private Layer layer;

    @Setup
    public void setup() {
        Parallel.setThreads(1);
        String[] s = shape.split("x");
        layer = new Layer(Integer.parseInt(s[0]), Integer.parseInt(s[1]), batch, density, 7);
    }

    @Benchmark
    public float[] sparse() {
        layer.sparse.run();
        return layer.y;
    }

    @Benchmark
    public float[] dense() {
        layer.dense.run();
        return layer.y;
    }

    /** One layer's operands and the two forward passes to compare (batch 1 without bias, as gemv has none). */
    static final class Layer {
        final float[] y;
        final Runnable sparse;
        final Runnable dense;

        Layer(int rows, int cols, int batch, double density, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) if (r.nextDouble() < density) w[i] = (float) (r.nextDouble() - 0.5);
            float[] x = new float[batch * cols], bias = new float[rows];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() - 0.5);
            for (int i = 0; i < rows; i++) bias[i] = (float) (r.nextDouble() - 0.5);
            y = new float[batch * rows];
            CsrMatrix a = CsrMatrix.of(w, 0, rows, cols);
            SparseKernels sk = Kernels.sparse();
            FloatKernels fk = Kernels.fp32();
            if (batch == 1) {
                sparse = () -> sk.spmv(a, x, 0, y, 0);
                dense = () -> fk.gemv(rows, cols, w, 0, x, 0, y, 0, false);
            } else {
                sparse = () -> sk.spmmNT(batch, x, 0, a, bias, true, y, 0);
                dense = () -> fk.gemmNTBias(batch, rows, cols, x, 0, w, 0, bias, y, 0, true);
            }
        }
    }

    /**
     * The interleaved sweep: {@code [rounds]} (default 7). Prints, per shape and batch, the median
     * microseconds of sparse and dense at each density and the density where their ratio crosses 1
     * (linear interpolation between the measured densities).
     */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        double[] densities = {0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7};
        Parallel.setThreads(1);
        System.out.println("kernels " + Kernels.describe() + ", 1 thread, median of " + rounds + " interleaved rounds");
        for (int batch : new int[] {1, 64}) {
            for (int[] s : new int[][] {{300, 784}, {100, 300}}) {
                Layer[] layers = new Layer[densities.length];
                for (int d = 0; d < densities.length; d++) layers[d] = new Layer(s[0], s[1], batch, densities[d], 7);
                double[][] sp = new double[densities.length][rounds], de = new double[densities.length][rounds];
                for (int round = 0; round < rounds; round++) {
                    for (int d = 0; d < densities.length; d++) {
                        sp[d][round] = Timing.medianSeconds(layers[d].sparse, 0.05, 0.1);
                        de[d][round] = Timing.medianSeconds(layers[d].dense, 0.05, 0.1);
                    }
                }
                System.out.printf(Locale.ROOT, "%n%dx%d batch %d (%s)%n%8s %12s %12s %8s%n", s[0], s[1], batch,
                        batch == 1 ? "spmv vs gemv" : "spmmNT vs gemmNTBias+ReLU", "density", "sparse us", "dense us", "speedup");
                double previous = Double.NaN, crossing = Double.NaN;
                for (int d = 0; d < densities.length; d++) {
                    double ts = median(sp[d]), td = median(de[d]), speedup = td / ts;
                    System.out.printf(Locale.ROOT, "%8.2f %12.2f %12.2f %7.2fx%n", densities[d], ts * 1e6, td * 1e6, speedup);
                    if (Double.isNaN(crossing) && d > 0 && previous >= 1 && speedup < 1) {
                        crossing = densities[d - 1] + (densities[d] - densities[d - 1]) * (previous - 1) / (previous - speedup);
                    }
                    previous = speedup;
                }
                System.out.printf(Locale.ROOT, "break-even density ~ %s%n",
                        Double.isNaN(crossing) ? "outside the swept range" : String.format(Locale.ROOT, "%.2f", crossing));
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
