package dev.whittle.engine.nn;

/**
 * Where training time goes: wall-clock nanoseconds per layer for forward and backward, plus the
 * steps around them (filling the batch, the loss, the optimizer). Timing is per call (per
 * mini-batch), so its own cost is a few {@code nanoTime} reads per layer per batch.
 */
public final class Profile {

    /** The parts of a training step outside the layers. */
    public enum Step { BATCH, LOSS, OPTIMIZER }

    private final long[] forward;
    private final long[] backward;
    private final long[] steps = new long[Step.values().length];

    public Profile(int layers) {
        forward = new long[layers];
        backward = new long[layers];
    }

    void addForward(int layer, long nanos) {
        forward[layer] += nanos;
    }

    void addBackward(int layer, long nanos) {
        backward[layer] += nanos;
    }

    public void add(Step step, long nanos) {
        steps[step.ordinal()] += nanos;
    }

    public long forwardNanos(int layer) {
        return forward[layer];
    }

    public long backwardNanos(int layer) {
        return backward[layer];
    }

    public long nanos(Step step) {
        return steps[step.ordinal()];
    }

    /** Everything recorded. */
    public long totalNanos() {
        long t = 0;
        for (int i = 0; i < forward.length; i++) t += forward[i] + backward[i];
        for (long s : steps) t += s;
        return t;
    }
}
