package dev.whittle.compress.prune;

/**
 * The gradual pruning schedule of Zhu and Gupta (2017), "To prune, or not to prune": sparsity rises
 * from {@code s_i} to {@code s_f} over n pruning steps Δt training steps apart, fast at first
 * (while the network can recover) and slowly at the end,
 *
 * <pre>
 *   s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n Δt))^3     for t0 <= t <= t0 + n Δt
 * </pre>
 *
 * and stays at {@code s_f} afterwards, leaving the remaining steps to recover at the final sparsity.
 */
public record GradualSparsitySchedule(double initial, double target, long start, int prunings, long interval) {

    public GradualSparsitySchedule {
        if (!(initial >= 0 && initial <= target && target < 1)) {
            throw new IllegalArgumentException("sparsities must satisfy 0 <= initial <= target < 1, got " + initial + ", " + target);
        }
        if (start < 0 || prunings < 1 || interval < 1) {
            throw new IllegalArgumentException("start >= 0, at least one pruning step and a positive interval, got " + start + ", "
                    + prunings + ", " + interval);
        }
    }

    /** The sparsity at training step {@code t}. */
    public double sparsity(long t) {
        if (t <= start) return initial;
        double progress = Math.min(1.0, (double) (t - start) / ((double) prunings * interval));
        double left = 1 - progress;
        return target + (initial - target) * left * left * left;
    }

    /** Whether the mask is recomputed at step {@code t}: every Δt steps from t0 to the end of the ramp. */
    public boolean updatesAt(long t) {
        return t >= start && t <= start + (long) prunings * interval && (t - start) % interval == 0;
    }
}
