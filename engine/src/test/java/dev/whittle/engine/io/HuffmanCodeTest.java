package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Rng;
import java.util.PriorityQueue;
import org.junit.jupiter.api.Test;

/** Canonical Huffman codes: optimal when unlimited, complete, within 15 bits, and every stream decodes to what was written. */
class HuffmanCodeTest {

    /** {@code counts[s]} copies of each symbol s, shuffled. */
    private static int[] message(long[] counts, Rng rng) {
        int total = 0;
        for (long c : counts) total += (int) c;
        int[] m = new int[total];
        for (int s = 0, k = 0; s < counts.length; s++) for (int i = 0; i < counts[s]; i++) m[k++] = s;
        rng.shuffle(m);
        return m;
    }

    /** Writes the message with the code from the counts, reads it back with the code from the stored lengths only. */
    private static void assertRoundTrip(long[] counts, Rng rng) {
        HuffmanCode code = HuffmanCode.fromCounts(counts);
        int[] msg = message(counts, rng);
        HuffmanCode.BitWriter w = new HuffmanCode.BitWriter();
        for (int s : msg) code.write(w, s);
        byte[] bytes = w.toBytes();
        assertEquals((code.cost(counts) + 7) / 8, bytes.length);
        int[] lengths = new int[code.size()];
        for (int s = 0; s < lengths.length; s++) lengths[s] = code.length(s);
        HuffmanCode decoder = HuffmanCode.fromLengths(lengths);
        HuffmanCode.BitReader r = new HuffmanCode.BitReader(bytes, 0);
        int[] back = new int[msg.length];
        for (int i = 0; i < msg.length; i++) back[i] = decoder.read(r);
        assertArrayEquals(msg, back);
        assertEquals(code.cost(counts), r.position());
    }

    /** The optimal total code length: the sum of the weights of the merged nodes. */
    private static long optimalCost(long[] counts) {
        PriorityQueue<Long> q = new PriorityQueue<>();
        for (long c : counts) if (c > 0) q.add(c);
        long cost = 0;
        while (q.size() > 1) {
            long m = q.poll() + q.poll();
            cost += m;
            q.add(m);
        }
        return cost;
    }

    @Test
    void randomDistributionsRoundTripAtTheOptimalCost() {
        Rng rng = new Rng(11);
        for (int trial = 0; trial < 200; trial++) {
            int size = 1 + rng.nextInt(trial % 3 == 0 ? 300 : 20);
            long[] counts = new long[size];
            for (int s = 0; s < size; s++) counts[s] = rng.nextInt(4) == 0 ? 0 : rng.nextInt(1 + rng.nextInt(200));
            assertRoundTrip(counts, rng);
            long used = java.util.Arrays.stream(counts).filter(c -> c > 0).count();
            // counts this flat never need the length limit, so the code is optimal
            if (used > 1) assertEquals(optimalCost(counts), HuffmanCode.fromCounts(counts).cost(counts), "trial " + trial);
        }
    }

    @Test
    void aSingleSymbolCostsNoBits() {
        long[] counts = {0, 0, 57, 0};
        HuffmanCode code = HuffmanCode.fromCounts(counts);
        assertEquals(0, code.cost(counts));
        assertEquals(1, code.length(2));
        assertRoundTrip(counts, new Rng(1));
        assertRoundTrip(new long[] {9}, new Rng(1));
    }

    @Test
    void skewedCountsAreLimitedTo15BitsAndStayComplete() {
        long[] counts = new long[40];
        counts[0] = counts[1] = 1;
        for (int s = 2; s < counts.length; s++) counts[s] = counts[s - 1] + counts[s - 2];   // Fibonacci: an unlimited code 39 deep
        for (int s = 0; s < counts.length; s++) counts[s] = Math.min(counts[s], 40_000);
        HuffmanCode code = HuffmanCode.fromCounts(counts);
        long kraft = 0;
        for (int s = 0; s < counts.length; s++) {
            assertTrue(code.length(s) >= 1 && code.length(s) <= HuffmanCode.MAX_LENGTH, "symbol " + s + ": " + code.length(s));
            kraft += 1L << (HuffmanCode.MAX_LENGTH - code.length(s));
        }
        assertEquals(1L << HuffmanCode.MAX_LENGTH, kraft);
        assertRoundTrip(counts, new Rng(2));
    }

    @Test
    void codesAreCanonical() {
        // RFC 1951's example lengths (2,1,3,3): B = 0, A = 10, C = 110, D = 111
        HuffmanCode code = HuffmanCode.fromLengths(new int[] {2, 1, 3, 3});
        HuffmanCode.BitWriter w = new HuffmanCode.BitWriter();
        for (int s : new int[] {0, 1, 2, 3}) code.write(w, s);
        assertArrayEquals(new byte[] {(byte) 0b10011011, (byte) 0b10000000}, w.toBytes());   // 10 0 110 111, padded
        // equal counts: ties merge the earlier nodes first, so the lengths never depend on anything but the counts
        assertArrayEquals(new int[] {2, 2, 1}, lengths(HuffmanCode.fromCounts(new long[] {5, 5, 5})));
        assertArrayEquals(new int[] {2, 2, 2, 2}, lengths(HuffmanCode.fromCounts(new long[] {5, 5, 5, 5})));
    }

    private static int[] lengths(HuffmanCode c) {
        int[] l = new int[c.size()];
        for (int s = 0; s < l.length; s++) l[s] = c.length(s);
        return l;
    }

    @Test
    void lengthTablesThatAreNoCompletePrefixCodeAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HuffmanCode.fromLengths(new int[] {1, 1, 1})).getMessage().contains("not a prefix code"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HuffmanCode.fromLengths(new int[] {1, 2})).getMessage().contains("incomplete"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HuffmanCode.fromLengths(new int[] {0, 3})).getMessage().contains("expected 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HuffmanCode.fromLengths(new int[] {1, 16})).getMessage().contains("16"));
    }

    @Test
    void aStreamThatEndsInsideACodeIsNoticed() {
        HuffmanCode code = HuffmanCode.fromLengths(new int[] {1, 2, 2});
        HuffmanCode.BitReader r = new HuffmanCode.BitReader(new byte[] {(byte) 0b11111111}, 0);
        for (int i = 0; i < 4; i++) assertEquals(2, code.read(r));   // 11 four times
        assertEquals(-1, code.read(r));   // nothing left, not a zero-padded symbol 0
    }
}
