package dev.whittle.compress.report;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Model;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.train.Batch;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Measures inference speed the way the reports quote it: batch-1 latency (median and 95th
 * percentile over single calls) and batch-64 throughput (samples per second at the median call),
 * on real samples. Several models take turns in short bursts (eight batch-1 calls, two batch-64
 * calls), warm-up included: the slow spells of a shared machine last tens to hundreds of
 * milliseconds here, so a model timed in one long block can fall inside one while the next model
 * does not; in bursts every spell falls on all of them alike. The models are warmed up first, for
 * at least {@link #WARMUP_NANOS} each and then until the JIT has been quiet for {@link #QUIET_NANOS}
 * (no compilation finished): with a fixed warm-up alone, C2's versions of the integer kernels
 * sometimes arrived only after timing had begun (compilations queue behind each other on two cores),
 * and one run of {@code whittle bench models} read the INT8 lenet-300-100 at 6.0x the FP32
 * latency where the next read 0.63x.
 */
public final class InferenceTiming {

    /** The batch of the throughput figure. */
    public static final int THROUGHPUT_BATCH = 64;
    /** Batch-1 calls of one model before the next model's turn. */
    private static final int BURST = 8;
    /** Batch-64 calls of one model before the next model's turn. */
    private static final int BULK_BURST = 2;
    /** Warm-up per model before timing, in nanoseconds. */
    private static final long WARMUP_NANOS = 1_500_000_000L;
    /** How long no compilation may have finished before timing starts. */
    private static final long QUIET_NANOS = 400_000_000L;
    /** Warm-up per model at most, even if the JIT never settles. */
    private static final long WARMUP_CAP_NANOS = 8_000_000_000L;

    /** One model's figures. */
    public record Result(double latencyUsP50, double latencyUsP95, double throughputPerSecond, int runs) {}

    private InferenceTiming() {}

    /**
     * Times each model over {@code runs} batch-1 calls and {@code runs} batch-64 calls (at least
     * 200 of each are advised), cycling through the first samples of {@code data}.
     */
    public static List<Result> measure(List<? extends Model> models, Dataset data, int runs) {
        if (runs < 1) throw new IllegalArgumentException("runs must be positive, got " + runs);
        int singles = Math.min(THROUGHPUT_BATCH, data.size());
        int[] order = new int[Math.min(THROUGHPUT_BATCH, data.size())];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Batch big = new Batch(data, order.length);
        Tensor batch = big.fill(data, order, 0, order.length).copy();
        Tensor[] one = new Tensor[singles];
        Batch small = new Batch(data, 1);
        for (int i = 0; i < singles; i++) one[i] = small.fill(data, order, i, 1).copy();
        long start = System.nanoTime(), least = start + WARMUP_NANOS * models.size();
        long most = start + WARMUP_CAP_NANOS * models.size(), quietSince = start;
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long compiled = compilationMillis(jit);
        for (int i = 0; ; i++) {
            for (Model m : models) {
                for (int j = 0; j < BURST; j++) m.predict(one[(i * BURST + j) % singles]);
                m.predict(batch);
            }
            long now = System.nanoTime(), c = compilationMillis(jit);
            if (c != compiled) {
                compiled = c;
                quietSince = now;
            }
            if (now >= most || (now >= least && now - quietSince >= QUIET_NANOS)) break;
        }
        List<long[]> latency = new ArrayList<>(), bulk = new ArrayList<>();
        for (int k = 0; k < models.size(); k++) {
            latency.add(new long[runs]);
            bulk.add(new long[runs]);
        }
        for (int done = 0; done < runs; done += BURST) {
            int count = Math.min(BURST, runs - done);
            for (int k = 0; k < models.size(); k++) {
                Model m = models.get(k);
                for (int i = done; i < done + count; i++) {
                    Tensor x = one[i % singles];
                    long t0 = System.nanoTime();
                    m.predict(x);
                    latency.get(k)[i] = System.nanoTime() - t0;
                }
            }
        }
        for (int done = 0; done < runs; done += BULK_BURST) {
            int count = Math.min(BULK_BURST, runs - done);
            for (int k = 0; k < models.size(); k++) {
                Model m = models.get(k);
                for (int i = done; i < done + count; i++) {
                    long t0 = System.nanoTime();
                    m.predict(batch);
                    bulk.get(k)[i] = System.nanoTime() - t0;
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int k = 0; k < models.size(); k++) {
            long[] l = latency.get(k), b = bulk.get(k);
            Arrays.sort(l);
            Arrays.sort(b);
            double p50 = percentile(l, 0.50) / 1e3, p95 = percentile(l, 0.95) / 1e3;
            double throughput = batch.dim(0) / (percentile(b, 0.50) / 1e9);
            results.add(new Result(p50, p95, throughput, runs));
        }
        return results;
    }

    /** Milliseconds the JIT has spent compiling so far (it grows whenever a compilation finishes), or 0 if unknown. */
    private static long compilationMillis(CompilationMXBean jit) {
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /** The value at fraction {@code q} of a sorted array (nearest rank). */
    static double percentile(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
