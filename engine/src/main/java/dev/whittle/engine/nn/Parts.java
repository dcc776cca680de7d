package dev.whittle.engine.nn;

import dev.whittle.kernels.Parallel;

/**
 * Splits a batch's independent work items (samples, image planes, sample groups) into contiguous
 * parts run on the kernels' thread pool. Each part has an index, so a layer can give it its own
 * scratch buffer; an item is computed the same way whichever part holds it, so results do not
 * depend on the thread count.
 */
public final class Parts {

    /** Handles the items {@code [from, to)} as part number {@code part}. */
    @FunctionalInterface
    public interface Body {
        void run(int part, int from, int to);
    }

    /**
     * Work (roughly, elements touched) below which handing a part to another thread costs more
     * than it saves; small batches, such as batch-1 latency runs, stay on the caller's thread.
     */
    private static final long MIN_WORK_PER_PART = 1L << 15;

    private Parts() {}

    /**
     * How many parts {@code items} items of {@code workPerItem} each are split into: at most one
     * per thread and one per item, and none smaller than {@link #MIN_WORK_PER_PART}.
     */
    public static int count(int items, long workPerItem) {
        long byWork = Math.max(1, items * workPerItem / MIN_WORK_PER_PART);
        return (int) Math.max(1, Math.min(Math.min(Parallel.threads(), items), byWork));
    }

    /** Runs {@code body} over {@code items} items split into {@code parts} parts (from {@link #count}). */
    public static void run(int items, int parts, Body body) {
        if (parts == 1) {
            body.run(0, 0, items);
            return;
        }
        Parallel.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) body.run(p, start(p, parts, items), start(p + 1, parts, items));
        });
    }

    /** The first item of part {@code part} when {@code items} items are cut into {@code parts} near-equal runs. */
    public static int start(int part, int parts, int items) {
        return (int) ((long) part * items / parts);
    }
}
