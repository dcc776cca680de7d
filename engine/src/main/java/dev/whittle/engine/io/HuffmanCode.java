package dev.whittle.engine.io;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * A canonical Huffman code (Huffman, 1952) over the symbols {@code 0 .. size-1}, as DEFLATE
 * (RFC 1951) defines it: only the code lengths are stored; the codes follow from them, shorter
 * codes first and, within one length, in symbol order. So a file pays a few bits a symbol for its
 * table, and two coders that agree on the lengths agree on every bit.
 *
 * <p>Lengths are limited to {@link #MAX_LENGTH} bits so the decoder's lookup table stays at most
 * 2^15 entries. The limit is met as bzip2 meets it: when the optimal code is too deep, halve the
 * counts (keeping each at least 1) and build again. That flattens only the rarest symbols, costs
 * almost nothing, and needs no second algorithm (package-merge) to get right.
 *
 * <p>A code used by exactly one symbol spends no bits on it (there is nothing to tell apart); its
 * table still records length 1 so that "length 0" keeps meaning "absent". Any other code must be
 * complete (Kraft sum exactly 1), so every bit pattern decodes to a symbol and the decoder's table
 * has no holes.
 */
final class HuffmanCode {

    static final int MAX_LENGTH = 15;

    /** Per symbol: the stored length (0 = absent), the bits it costs, and its code (the low {@code bits} bits). */
    private final int[] lengths, bits, codes;
    /** Indexed by the next {@code peekBits} bits of the stream: symbol << 4 | bits it spends. */
    private final int[] table;
    private final int peekBits;

    private HuffmanCode(int[] lengths) {
        this.lengths = lengths;
        int used = 0, max = 0;
        for (int l : lengths) {
            if (l > 0) used++;
            max = Math.max(max, l);
        }
        bits = used == 1 ? new int[lengths.length] : lengths.clone();
        codes = canonicalCodes(bits);
        peekBits = used == 1 ? 0 : max;
        table = used == 0 ? new int[0] : decodeTable();
    }

    /** The length-limited optimal code for symbols seen {@code counts[s]} times (a count of 0: absent). */
    static HuffmanCode fromCounts(long[] counts) {
        long[] c = counts.clone();
        while (true) {
            int[] lengths = huffmanLengths(c);
            if (Arrays.stream(lengths).max().orElse(0) <= MAX_LENGTH) return new HuffmanCode(lengths);
            for (int s = 0; s < c.length; s++) if (c[s] > 0) c[s] = Math.max(1, c[s] >> 1);
        }
    }

    /**
     * The code with these stored lengths; a length above {@link #MAX_LENGTH} or below 0, or a
     * table that is not a complete prefix code, is an {@link IllegalArgumentException} saying why.
     */
    static HuffmanCode fromLengths(int[] lengths) {
        long kraft = 0;   // in units of 2^-MAX_LENGTH
        int used = 0;
        for (int s = 0; s < lengths.length; s++) {
            if (lengths[s] < 0 || lengths[s] > MAX_LENGTH) {
                throw new IllegalArgumentException("symbol " + s + " has code length " + lengths[s] + ", expected 0 to " + MAX_LENGTH);
            }
            if (lengths[s] == 0) continue;
            used++;
            kraft += 1L << (MAX_LENGTH - lengths[s]);
        }
        if (used == 1 && kraft != 1L << (MAX_LENGTH - 1)) {
            throw new IllegalArgumentException("its only symbol has code length " + (MAX_LENGTH - Long.numberOfTrailingZeros(kraft)) + ", expected 1");
        }
        if (used > 1 && kraft != 1L << MAX_LENGTH) {
            throw new IllegalArgumentException("code lengths have Kraft sum " + kraft + "/" + (1 << MAX_LENGTH)
                    + ", not 1: " + (kraft > 1L << MAX_LENGTH ? "not a prefix code" : "an incomplete code"));
        }
        return new HuffmanCode(lengths.clone());
    }

    /** The number of symbols (used or not). */
    int size() {
        return lengths.length;
    }

    /** Symbol {@code s}'s stored length, 0 when absent. */
    int length(int s) {
        return lengths[s];
    }

    /** Whether no symbol has a code (only right for a stream that holds none). */
    boolean isEmpty() {
        return table.length == 0;
    }

    /** The bits that coding symbols seen {@code counts[s]} times takes. */
    long cost(long[] counts) {
        long total = 0;
        for (int s = 0; s < counts.length; s++) total += counts[s] * bits[s];
        return total;
    }

    void write(BitWriter out, int symbol) {
        if (lengths[symbol] == 0) throw new IllegalArgumentException("symbol " + symbol + " has no code");
        out.write(codes[symbol], bits[symbol]);
    }

    /** The next symbol of {@code in}, or -1 when the stream ends inside its code. */
    int read(BitReader in) {
        int entry = table[in.peek(peekBits)];
        return in.skip(entry & 15) ? entry >>> 4 : -1;
    }

    /** Optimal (unlimited) lengths: merge the two lightest nodes until one is left; ties go to the earlier node. */
    private static int[] huffmanLengths(long[] counts) {
        int n = counts.length;
        int[] lengths = new int[n];
        long[] weight = new long[2 * n];
        int[] parent = new int[2 * n];
        PriorityQueue<Integer> queue = new PriorityQueue<>((a, b) -> weight[a] != weight[b] ? Long.compare(weight[a], weight[b]) : Integer.compare(a, b));
        for (int s = 0; s < n; s++) {
            weight[s] = counts[s];
            if (counts[s] > 0) queue.add(s);
        }
        if (queue.size() == 1) lengths[queue.peek()] = 1;
        if (queue.size() <= 1) return lengths;
        int next = n;
        while (queue.size() > 1) {
            int a = queue.poll(), b = queue.poll();
            weight[next] = weight[a] + weight[b];
            parent[a] = next;
            parent[b] = next;
            queue.add(next++);
        }
        int root = next - 1;
        int[] depth = new int[2 * n];
        for (int node = root - 1; node >= 0; node--) {
            // parents are made after their children, so walking down from the root sees each parent's depth first
            if (node >= n || counts[node] > 0) depth[node] = depth[parent[node]] + 1;
        }
        for (int s = 0; s < n; s++) if (counts[s] > 0) lengths[s] = depth[s];
        return lengths;
    }

    /** RFC 1951 section 3.2.2: count the codes of each length, then hand them out in symbol order. */
    private static int[] canonicalCodes(int[] bits) {
        int[] perLength = new int[MAX_LENGTH + 1], next = new int[MAX_LENGTH + 2];
        for (int b : bits) if (b > 0) perLength[b]++;
        for (int len = 1, code = 0; len <= MAX_LENGTH; len++) {
            code = (code + perLength[len - 1]) << 1;
            next[len] = code;
        }
        int[] codes = new int[bits.length];
        for (int s = 0; s < bits.length; s++) if (bits[s] > 0) codes[s] = next[bits[s]]++;
        return codes;
    }

    /** Every {@code peekBits}-bit window that starts with a symbol's code points at that symbol. */
    private int[] decodeTable() {
        int[] t = new int[1 << peekBits];
        for (int s = 0; s < lengths.length; s++) {
            if (lengths[s] == 0) continue;
            int shift = peekBits - bits[s], first = codes[s] << shift;
            Arrays.fill(t, first, first + (1 << shift), s << 4 | bits[s]);
        }
        return t;
    }

    /** Bits appended most significant first, the last byte padded with zeros. */
    static final class BitWriter {
        private byte[] buf = new byte[64];
        private long bitCount;

        void write(int code, int length) {
            for (int i = length - 1; i >= 0; i--) {
                int byteIndex = (int) (bitCount >>> 3);
                if (byteIndex == buf.length) buf = Arrays.copyOf(buf, 2 * buf.length);
                if ((code >>> i & 1) != 0) buf[byteIndex] |= (byte) (0x80 >>> (bitCount & 7));
                bitCount++;
            }
        }

        byte[] toBytes() {
            return Arrays.copyOf(buf, (int) ((bitCount + 7) >>> 3));
        }
    }

    /** Reads {@code data[from ..]} as bits most significant first; reading past the end reads zeros and fails {@link #skip}. */
    static final class BitReader {
        private final byte[] data;
        private final long endBit;
        private long position;

        BitReader(byte[] data, int from) {
            this.data = data;
            this.position = 8L * from;
            this.endBit = 8L * data.length;
        }

        /** The next {@code n} (at most 16) bits, not consumed. */
        int peek(int n) {
            int i = (int) (position >>> 3);
            // 24 bits from the current byte cover any 16-bit window that starts inside it
            int window = byteAt(i) << 16 | byteAt(i + 1) << 8 | byteAt(i + 2);
            return window >>> (24 - (int) (position & 7) - n) & (1 << n) - 1;
        }

        /** Consumes {@code n} bits; false when the stream does not hold them. */
        boolean skip(int n) {
            position += n;
            return position <= endBit;
        }

        long position() {
            return position;
        }

        long endBit() {
            return endBit;
        }

        private int byteAt(int i) {
            return i < data.length ? data[i] & 0xFF : 0;
        }
    }
}
