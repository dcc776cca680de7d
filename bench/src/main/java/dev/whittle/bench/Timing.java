package dev.whittle.bench;

import java.util.Arrays;

/**
 * The timing loop of {@code whittle bench}: warm up until the JIT has settled, then take samples
 * until the budget is spent and report the median. Each sample runs the operation back to back
 * often enough to last about a millisecond, so the clock's own cost never shows in a small
 * product. The same loop, line for line, times the OpenBLAS peer ({@code openblas_peer.py}).
 */
public final class Timing {

    /** Seconds of warm-up: enough for C2 to compile the kernels a case reaches. */
    public static final double WARMUP_SECONDS = 0.3;
    /** Seconds of samples after warm-up. */
    public static final double BUDGET_SECONDS = 0.6;
    private static final int MIN_SAMPLES = 3;

    private Timing() {}

    /** The median seconds per call of {@code op}. */
    public static double medianSeconds(Runnable op) {
        return medianSeconds(op, WARMUP_SECONDS, BUDGET_SECONDS);
    }

    /** The median seconds per call of {@code op}, with the given warm-up and sampling budget. */
    public static double medianSeconds(Runnable op, double warmupSeconds, double budgetSeconds) {
        op.run();
        long start = System.nanoTime();
        long calls = 0;
        double elapsed;
        do {
            op.run();
            calls++;
            elapsed = (System.nanoTime() - start) * 1e-9;
        } while (elapsed < warmupSeconds || calls < 2);
        int batch = (int) Math.max(1, Math.min(1_000_000, 1e-3 / (elapsed / calls)));
        double[] samples = new double[64];
        int count = 0;
        double spent = 0;
        while (spent < budgetSeconds || count < MIN_SAMPLES) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) op.run();
            double dt = (System.nanoTime() - t0) * 1e-9;
            if (count == samples.length) samples = Arrays.copyOf(samples, 2 * count);
            samples[count++] = dt / batch;
            spent += dt;
        }
        double[] sorted = Arrays.copyOf(samples, count);
        Arrays.sort(sorted);
        return sorted[count / 2];
    }
}
