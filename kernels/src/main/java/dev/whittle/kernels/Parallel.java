package dev.whittle.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The one fixed thread pool every kernel shares. Work is split into contiguous ranges, one per
 * thread ({@link #forRange}) or several ({@link #forChunks}); a kernel computes each output
 * element the same way whichever range it falls in, so results do not depend on the thread
 * count, nor on which thread ends up running a range.
 */
public final class Parallel {

    /** A body that handles the half-open range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static volatile int threads = Runtime.getRuntime().availableProcessors();
    private static ExecutorService pool;
    private static final ThreadLocal<Boolean> IN_WORKER = ThreadLocal.withInitial(() -> false);
    /** Ranges per thread in {@link #forChunks}. */
    static final int CHUNKS_PER_THREAD = 4;
    /** How long {@link #forChunks}' caller spins for the ranges still running before it parks. */
    private static final long SPIN_NANOS = 200_000;

    private Parallel() {}

    /** The number of threads kernels split their work over. */
    public static int threads() {
        return threads;
    }

    /** Sets the number of threads (at least 1); the pool is rebuilt on next use. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        if (n != threads && pool != null) {
            pool.shutdown();
            pool = null;
        }
        threads = n;
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(() -> {
                    IN_WORKER.set(true);
                    r.run();
                }, "whittle-kernel");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into at most {@link #threads()} contiguous
     * ranges whose boundaries are multiples of {@code grain} (except the last). Runs inline when
     * there is one thread, one range, or the caller is already a pool worker.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        int units = (n + grain - 1) / grain;
        if (runsInline(units)) {
            task.run(0, n);
            return;
        }
        int parts = Math.min(threads, units);
        ExecutorService exec = pool();
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[parts - 1];
        int from = 0;
        int[] bounds = new int[parts + 1];
        for (int i = 0; i < parts; i++) {
            bounds[i] = from;
            int take = units / parts + (i < units % parts ? 1 : 0);
            from = Math.min(n, from + take * grain);
        }
        bounds[parts] = n;
        // a range goes to whoever claims it first: its pool task when that starts, or the caller
        // once its own range is done. On a busy host a pool thread can wait milliseconds for a
        // core; the caller then runs its range rather than waiting for it to be scheduled
        AtomicIntegerArray claimed = new AtomicIntegerArray(parts);
        for (int i = 1; i < parts; i++) {
            int part = i, lo = bounds[i], hi = bounds[i + 1];
            try {
                futures[i - 1] = exec.submit(() -> {
                    if (claimed.compareAndSet(part, 0, 1)) task.run(lo, hi);
                });
            } catch (RejectedExecutionException e) {
                break;  // setThreads is replacing the pool: the caller claims the ranges left below
            }
        }
        task.run(bounds[0], bounds[1]);
        for (int i = 1; i < parts; i++) {
            if (claimed.compareAndSet(i, 0, 1)) {
                task.run(bounds[i], bounds[i + 1]);
                futures[i - 1] = null;  // its pool task will find the range claimed and return
            }
        }
        for (Future<?> f : futures) {
            if (f == null) continue;
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a kernel", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) throw re;
                if (cause instanceof Error err) throw err;
                throw new IllegalStateException(cause);
            }
        }
    }

    /**
     * Runs {@code task} over {@code [0, n)} in up to {@link #CHUNKS_PER_THREAD} ranges per thread
     * (boundaries multiples of {@code grain}), claimed as in {@link #forEachChunk}. For the
     * matrix-vector products, tens of microseconds each: on this project's 2-vCPU host a pool
     * thread often starts that long after it is handed its range, and with one range per thread
     * ({@link #forRange}) the caller sat idle meanwhile, so that two threads ran a 1024 x 1024 GEMV
     * at 0.7x the speed of one. Here a late thread finds less or nothing left to do.
     */
    public static void forChunks(int n, int grain, RangeTask task) {
        int units = (n + grain - 1) / grain;
        if (runsInline(units)) {
            task.run(0, n);
            return;
        }
        int chunks = Math.min(units, threads * CHUNKS_PER_THREAD);
        forEachChunk(chunks, c -> {
            // chunk c: units [c * units / chunks, (c + 1) * units / chunks)
            long lo = (long) c * units / chunks, hi = (long) (c + 1) * units / chunks;
            task.run((int) (lo * grain), (int) Math.min(n, hi * grain));
        });
    }

    /**
     * Runs {@code chunk.accept(c)} for {@code c} in {@code [0, chunks)}, each chunk taken by whichever
     * thread asks next, the caller and the pool's alike, until none is left; the caller then waits
     * only for chunks already running (spinning briefly, then parking). A thread the pool starts
     * late, or a core the host slows down, gets less of the work. Callers make a chunk's results
     * independent of who runs it. The first exception a chunk throws is rethrown once all have run.
     */
    public static void forEachChunk(int chunks, IntConsumer chunk) {
        if (runsInline(chunks)) {
            for (int c = 0; c < chunks; c++) chunk.accept(c);
            return;
        }
        AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.currentThread();
        Runnable claim = () -> {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    chunk.accept(c);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    if (done.incrementAndGet() == chunks) LockSupport.unpark(caller);
                }
            }
        };
        ExecutorService exec = pool();
        try {
            for (int i = 1; i < Math.min(threads, chunks); i++) exec.execute(claim);
        } catch (RejectedExecutionException e) {
            // setThreads is replacing the pool: the caller claims whatever is left
        }
        claim.run();
        // what is left runs for a chunk's time at most: spin (a parked thread can take tens of
        // microseconds to wake on a virtual machine), then park if it lasts
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (done.get() < chunks) {
            if (System.nanoTime() < spinUntil) Thread.onSpinWait();
            else LockSupport.parkNanos(Parallel.class, SPIN_NANOS);
        }
        Throwable e = failure.get();
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException(e);
    }

    /** Whether work of {@code units} indivisible parts runs on the calling thread: one thread, one part, or already in the pool. */
    private static boolean runsInline(int units) {
        return threads == 1 || units <= 1 || IN_WORKER.get();
    }
}
