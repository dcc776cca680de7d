package dev.whittle.kernels;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
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
 *
 * <p>The pool's threads stay awake for {@link #IDLE_SPIN_NANOS} after their last task, polling
 * for the next one, and only then park; a caller wakes a parked one. Waking a parked thread on
 * this project's 2-vCPU VM takes tens of microseconds (an idle vCPU is likely halted), which a training
 * step's products, a few hundred microseconds each with serial work in between, paid at every
 * call: 200 us of work in two chunks took 150 us on two threads instead of 100 (OpenBLAS's and
 * OpenMP's threads spin after a call for the same reason). With more threads than processors
 * they park at once, since a spinning thread would then take a core from one with work.
 */
public final class Parallel {

    /** A body that handles the half-open range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static volatile int threads = Runtime.getRuntime().availableProcessors();
    private static Pool pool;
    private static final ThreadLocal<Boolean> IN_WORKER = ThreadLocal.withInitial(() -> false);
    /** Ranges per thread in {@link #forChunks}. */
    static final int CHUNKS_PER_THREAD = 4;
    /** How long {@link #forChunks}' caller spins for the ranges still running before it parks. */
    private static final long SPIN_NANOS = 200_000;
    /** How long a pool thread polls for new work after its last task before it parks. */
    static final long IDLE_SPIN_NANOS = 2_000_000;

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

    private static synchronized Pool pool() {
        if (pool == null) {
            boolean spin = threads <= Runtime.getRuntime().availableProcessors();
            pool = new Pool(threads - 1, spin ? IDLE_SPIN_NANOS : 0);
        }
        return pool;
    }

    /**
     * {@code size} daemon threads taking tasks from one queue. A thread with nothing to do polls
     * the queue for {@code spinNanos}, then marks itself asleep and parks; {@link #execute} wakes
     * one sleeper per task. The sleeper's mark is written before it looks at the queue one last
     * time, and a task is queued before its submitter looks at the marks (all volatile), so either
     * the sleeper sees the task or the submitter sees the mark: no task waits for a thread that
     * nobody wakes.
     */
    private static final class Pool {
        private final Thread[] workers;
        private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
        /** 1 while worker i is parked (or about to park) with nobody having woken it. */
        private final AtomicIntegerArray asleep;
        private final long spinNanos;
        private volatile boolean shut;

        Pool(int size, long spinNanos) {
            this.spinNanos = spinNanos;
            workers = new Thread[size];
            asleep = new AtomicIntegerArray(size);
            for (int i = 0; i < size; i++) {
                int index = i;
                Thread t = new Thread(() -> work(index), "whittle-kernel-" + (i + 1));
                t.setDaemon(true);
                workers[i] = t;
            }
            for (Thread t : workers) t.start();
        }

        /** Queues {@code task}; throws {@link RejectedExecutionException} once the pool is shut down. */
        void execute(Runnable task) {
            if (shut) throw new RejectedExecutionException("the kernel pool is being replaced");
            queue.offer(task);
            for (int i = 0; i < workers.length; i++) {
                if (asleep.compareAndSet(i, 1, 0)) {
                    LockSupport.unpark(workers[i]);
                    return;
                }
            }
        }

        void shutdown() {
            shut = true;
            for (Thread t : workers) LockSupport.unpark(t);
        }

        private void work(int index) {
            IN_WORKER.set(true);
            long idleSince = System.nanoTime();
            while (!shut) {
                Runnable task = queue.poll();
                if (task != null) {
                    try {
                        task.run();  // tasks catch and report their own failures
                    } catch (Throwable e) {
                        // keep the thread: the caller of that task claims what it left
                    }
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < spinNanos) {
                    Thread.onSpinWait();
                } else {
                    asleep.set(index, 1);
                    if (!queue.isEmpty() || shut) {
                        asleep.compareAndSet(index, 1, 0);  // if a submitter cleared it, its unpark is a spare permit
                    } else {
                        while (asleep.get(index) == 1 && !shut) LockSupport.park(this);
                    }
                    idleSince = System.nanoTime();
                }
            }
            // a task queued as the pool was shut down finds its ranges claimed by the caller
            queue.clear();
        }
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into at most {@link #threads()} contiguous
     * ranges whose boundaries are multiples of {@code grain} (except the last). Runs inline when
     * there is one thread, one range, or the caller is already a pool worker. A range goes to
     * whoever claims it first, as in {@link #forEachChunk}: on a busy host a pool thread can wait
     * milliseconds for a core, and the caller then runs its range rather than waiting for it.
     */
    public static void forRange(int n, int grain, RangeTask task) {
        int units = (n + grain - 1) / grain;
        if (runsInline(units)) {
            task.run(0, n);
            return;
        }
        int parts = Math.min(threads, units);
        int[] bounds = new int[parts + 1];
        for (int i = 0, from = 0; i < parts; i++) {
            bounds[i] = from;
            int take = units / parts + (i < units % parts ? 1 : 0);
            from = Math.min(n, from + take * grain);
        }
        bounds[parts] = n;
        forEachChunk(parts, i -> task.run(bounds[i], bounds[i + 1]));
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
        Pool exec = pool();
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
