package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Parallel#forRange} and {@link Parallel#forChunks} run every index exactly once, whichever thread claims its range. */
class ParallelTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads = 1; threads <= 3; threads++) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 2, 3, 17, 1000}) {
                for (int grain : new int[] {1, 8}) {
                    // many rounds: sometimes the pool task claims its range, sometimes the caller does
                    for (int round = 0; round < 200; round++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(n);
                        Parallel.forRange(n, grain, (from, to) -> {
                            for (int i = from; i < to; i++) runs.incrementAndGet(i);
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, runs.get(i), "threads " + threads + " n " + n + " grain " + grain + " index " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void chunksRunEveryIndexExactlyOnceOnWholeGrains() {
        for (int threads = 1; threads <= 3; threads++) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 2, 3, 17, 1000, 4099}) {
                for (int grain : new int[] {1, 8}) {
                    for (int round = 0; round < 100; round++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(n);
                        int g = grain;
                        Parallel.forChunks(n, grain, (from, to) -> {
                            assertTrue(from % g == 0 && from < to && to <= n, from + ".." + to);
                            for (int i = from; i < to; i++) runs.incrementAndGet(i);
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, runs.get(i), "threads " + threads + " n " + n + " grain " + grain + " index " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aChunkThatFailsFailsTheCallAfterTheOthersFinish() {
        Parallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicIntegerArray runs = new AtomicIntegerArray(64);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forChunks(64, 1, (from, to) -> {
            for (int i = from; i < to; i++) runs.incrementAndGet(i);
            if (from == 0) throw boom;
        }));
        assertSame(boom, e);
        for (int i = 0; i < 64; i++) assertEquals(1, runs.get(i), "index " + i);
    }

    @Test
    void survivesTheThreadCountChangingDuringCalls() throws Exception {
        // setThreads shuts the pool down; a call that took the old pool must still finish
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread flipper = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) Parallel.setThreads(2 + i % 2);
        });
        flipper.start();
        try {
            for (int round = 0; round < 3000; round++) {
                int n = 64;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                if (round % 2 == 0) Parallel.forChunks(n, 1, (from, to) -> { for (int i = from; i < to; i++) runs.incrementAndGet(i); });
                else Parallel.forRange(n, 1, (from, to) -> { for (int i = from; i < to; i++) runs.incrementAndGet(i); });
                for (int i = 0; i < n; i++) assertEquals(1, runs.get(i), "round " + round + " index " + i);
            }
        } finally {
            stop.set(true);
            flipper.join();
        }
    }

    @Test
    void aParkedPoolThreadIsWokenForNewWork() throws Exception {
        // the pool's threads park after IDLE_SPIN_NANOS without work; a call must wake one:
        // each of two chunks waits until two different threads are inside a chunk at once
        Parallel.setThreads(2);
        for (int round = 0; round < 20; round++) {
            Thread.sleep(round % 2 == 0 ? 10 : 0);  // long enough for the pool thread to park, or not
            java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
            java.util.Set<Thread> inside = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Parallel.forEachChunk(2, c -> {
                inside.add(Thread.currentThread());
                both.countDown();
                try {
                    assertTrue(both.await(10, java.util.concurrent.TimeUnit.SECONDS), "no second thread took a chunk");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(2, inside.size(), "round " + round);
        }
    }
}
