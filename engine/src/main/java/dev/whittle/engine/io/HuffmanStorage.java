package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A pruned, weight-shared INT8 weight coded as Deep Compression stores it (Han, Mao and Dally,
 * 2016): walk the weight in row-major order (a conv weight as [out, in*k*k], across row ends) and
 * emit, for each nonzero, its <em>relative index</em> (the zeros since the previous nonzero) and
 * its index in the layer's codebook (the sorted distinct nonzero values), each with its own
 * canonical Huffman code ({@link HuffmanCode}) built from the layer's own counts.
 *
 * <pre>
 *   name.huffman  U8 [bytes]
 *   +---------+-----+------------------+-----+------------------+--------------------+----------+------------+
 *   | version |  V  | codebook         |  E  | gap code lengths | value code lengths | nnz      | bit stream |
 *   | u8 = 1  | u8  | V x int8, rising | u8  | (E+1) x 4 bits   | V x 4 bits         | int32 LE | MSB first  |
 *   +---------+-----+------------------+-----+------------------+--------------------+----------+------------+
 *     V    codebook size, 0..254 (no 0, no -128)
 *     E    escape symbol, 1..255: the gap alphabet is 0..E; gap g < E means "g zeros, then a
 *          nonzero", E means "E zeros, no nonzero" (Deep Compression's filler zero)
 *     code lengths: 0 = absent, else 1..15; two to a byte, low nibble first, a last odd half zero
 *     stream: for each of the nnz nonzeros, any escapes (E), its gap (0..E-1), its codebook
 *          index; zero bits pad the last byte, and the zeros after the last nonzero are implied
 *
 *   whittle.sparse = {..., "1.weight":{"format":"huffman","shape":[300,784]}}
 * </pre>
 *
 * Beyond the paper: the zeros after the last nonzero are not coded (the shape says how many
 * elements there are); a code used by one symbol costs no bits (a codebook of one value, or
 * evenly spaced nonzeros, is free); and the encoder tries every gap alphabet of 2^b symbols (b = 1
 * to 8), keeping the one that codes smallest, where the paper fixes the index width: dense layers
 * want a small alphabet, very sparse ones a large one. A 300x784 weight at 5% density with 16
 * shared values codes at 9.8 bits a nonzero, within 1% of its entropy (5.7 bits of position and 4
 * of value), where CSR with I8 values takes 25 and the bitmap 28.
 *
 * <p>Loading trusts nothing: the element count comes from the architecture, every count and
 * table is checked before anything is allocated from it, the stream must place exactly its
 * nonzeros inside the weight and end in its last byte with zero padding.
 */
final class HuffmanStorage {

    static final String SUFFIX = ".huffman";
    static final String FORMAT = "huffman";

    private static final int VERSION = 1;
    private static final int MAX_CODEBOOK = 254;

    private HuffmanStorage() {}

    /** The coded form of {@code values} (row-major), with the gap alphabet that makes it smallest. */
    static byte[] encode(byte[] values) {
        byte[] codebook = codebook(values);
        int[] slot = new int[256];
        for (int i = 0; i < codebook.length; i++) slot[codebook[i] + 128] = i;
        int nnz = 0;
        for (byte v : values) if (v != 0) nnz++;
        int[] gaps = new int[nnz], symbols = new int[nnz];
        long[] valueCounts = new long[codebook.length];
        for (int i = 0, k = 0, last = -1; i < values.length; i++) {
            if (values[i] == 0) continue;
            gaps[k] = i - last - 1;
            symbols[k] = slot[values[i] + 128];
            valueCounts[symbols[k++]]++;
            last = i;
        }
        HuffmanCode valueCode = HuffmanCode.fromCounts(valueCounts);
        int bestEscape = 0;
        long bestBytes = Long.MAX_VALUE;
        for (int escape = 1; escape <= 255; escape = 2 * escape + 1) {
            long[] gapCounts = gapCounts(gaps, escape);
            long bits = HuffmanCode.fromCounts(gapCounts).cost(gapCounts) + valueCode.cost(valueCounts);
            long bytes = headerBytes(codebook.length, escape) + (bits + 7) / 8;
            if (bytes < bestBytes) {
                bestBytes = bytes;
                bestEscape = escape;
            }
        }
        HuffmanCode gapCode = HuffmanCode.fromCounts(gapCounts(gaps, bestEscape));
        HuffmanCode.BitWriter stream = new HuffmanCode.BitWriter();
        for (int k = 0; k < nnz; k++) {
            for (int g = gaps[k]; ; g -= bestEscape) {
                if (g < bestEscape) {
                    gapCode.write(stream, g);
                    break;
                }
                gapCode.write(stream, bestEscape);
            }
            valueCode.write(stream, symbols[k]);
        }
        return layout(codebook, bestEscape, gapCode, valueCode, nnz, stream.toBytes());
    }

    /** The distinct nonzero values, ascending. */
    private static byte[] codebook(byte[] values) {
        boolean[] present = new boolean[256];
        for (byte v : values) present[v + 128] = true;
        if (present[0]) throw new IllegalArgumentException("an INT8 weight of -128 cannot be stored (weights are symmetric, -127 .. 127)");
        present[128] = false;
        int size = 0;
        for (boolean p : present) if (p) size++;
        byte[] codebook = new byte[size];
        for (int v = 0, i = 0; v < 256; v++) if (present[v]) codebook[i++] = (byte) (v - 128);
        return codebook;
    }

    /** How often each gap symbol is written when runs of {@code escape} zeros and more take escapes. */
    private static long[] gapCounts(int[] gaps, int escape) {
        long[] counts = new long[escape + 1];
        for (int g : gaps) {
            counts[escape] += g / escape;
            counts[g % escape]++;
        }
        return counts;
    }

    /** Everything before the bit stream. */
    private static int headerBytes(int codebookSize, int escape) {
        return 1 + 1 + codebookSize + 1 + (escape + 2) / 2 + (codebookSize + 1) / 2 + 4;
    }

    private static byte[] layout(byte[] codebook, int escape, HuffmanCode gapCode, HuffmanCode valueCode, int nnz, byte[] stream) {
        int header = headerBytes(codebook.length, escape);
        byte[] out = new byte[header + stream.length];
        int p = 0;
        out[p++] = VERSION;
        out[p++] = (byte) codebook.length;
        System.arraycopy(codebook, 0, out, p, codebook.length);
        p += codebook.length;
        out[p++] = (byte) escape;
        p = putLengths(out, p, gapCode);
        p = putLengths(out, p, valueCode);
        for (int i = 0; i < 4; i++) out[p++] = (byte) (nnz >>> 8 * i);
        System.arraycopy(stream, 0, out, p, stream.length);
        return out;
    }

    private static int putLengths(byte[] out, int p, HuffmanCode code) {
        for (int s = 0; s < code.size(); s++) out[p + s / 2] |= (byte) (code.length(s) << 4 * (s & 1));
        return p + (code.size() + 1) / 2;
    }

    /**
     * The {@code n} INT8 values coded in tensor {@code entry}, every field checked before it is
     * trusted: the shape is the architecture's, so whatever the file claims must land exactly on it.
     */
    static byte[] decode(Path file, TensorEntry entry, int n) throws BadInputException {
        String where = file + ": tensor '" + entry.name() + "'";
        if (entry.dtype() != DType.U8 || entry.shape().length != 1) {
            throw new BadInputException(where + " must be U8 [bytes], got " + entry.dtype() + " " + Arrays.toString(entry.shape()));
        }
        Fields in = new Fields(where, entry.data());
        int version = in.u8("version");
        if (version != VERSION) throw new BadInputException(where + " has huffman layout version " + version + ", expected " + VERSION);
        byte[] codebook = in.codebook();
        int escape = in.u8("escape symbol");
        if (escape == 0) throw new BadInputException(where + " has escape symbol 0, expected 1 to 255");
        HuffmanCode gapCode = in.code("gap", escape + 1), valueCode = in.code("value", codebook.length);
        int nnz = in.int32("nonzero count");
        if (nnz < 0 || nnz > n) throw new BadInputException(where + " claims " + Integer.toUnsignedString(nnz) + " nonzeros for " + n + " elements");
        if (nnz > 0 && (gapCode.isEmpty() || valueCode.isEmpty())) {
            throw new BadInputException(where + " claims " + nnz + " nonzeros but its " + (gapCode.isEmpty() ? "gap" : "value") + " code has no symbols");
        }
        return values(where, new HuffmanCode.BitReader(entry.data(), in.offset()), gapCode, valueCode, codebook, escape, nnz, n);
    }

    /** Walks the stream: escapes and gaps move along the row-major weight, values land where they stop. */
    private static byte[] values(String where, HuffmanCode.BitReader in, HuffmanCode gapCode, HuffmanCode valueCode, byte[] codebook,
                                 int escape, int nnz, int n) throws BadInputException {
        byte[] out = new byte[n];
        long at = 0;
        for (int k = 0; k < nnz; k++) {
            int gap;
            while ((gap = gapCode.read(in)) == escape) {
                // every escape moves on by escape >= 1 elements, so a lying stream ends here, not in a loop
                at += escape;
                if (at >= n) throw new BadInputException(where + ": nonzero " + k + " of " + nnz + " lies past element " + n);
            }
            int slot = gap < 0 ? -1 : valueCode.read(in);
            if (slot < 0) throw new BadInputException(where + ": bit stream ends at nonzero " + k + " of " + nnz);
            at += gap;
            if (at >= n) throw new BadInputException(where + ": nonzero " + k + " of " + nnz + " lies past element " + n);
            out[(int) at++] = codebook[slot];
        }
        long end = in.position(), padded = (end + 7) & ~7L;
        if (padded != in.endBit()) {
            throw new BadInputException(where + " has " + (in.endBit() - padded) / 8 + " bytes after its bit stream");
        }
        if (end < padded && in.peek((int) (padded - end)) != 0) throw new BadInputException(where + " pads its bit stream with nonzero bits");
        return out;
    }

    /** The fixed fields before the bit stream, read with a bounds check each. */
    private static final class Fields {
        private final String where;
        private final byte[] data;
        private int offset;

        Fields(String where, byte[] data) {
            this.where = where;
            this.data = data;
        }

        int offset() {
            return offset;
        }

        private void need(int bytes, String what) throws BadInputException {
            if (data.length - offset < bytes) {
                throw new BadInputException(where + " ends at byte " + data.length + " inside its " + what + " (" + bytes + " bytes at " + offset + ")");
            }
        }

        int u8(String what) throws BadInputException {
            need(1, what);
            return data[offset++] & 0xFF;
        }

        int int32(String what) throws BadInputException {
            need(4, what);
            int v = 0;
            for (int i = 0; i < 4; i++) v |= (data[offset++] & 0xFF) << 8 * i;
            return v;
        }

        /** The codebook: at most 254 values, none 0 or -128, strictly rising. */
        byte[] codebook() throws BadInputException {
            int size = u8("codebook size");
            if (size > MAX_CODEBOOK) throw new BadInputException(where + " has codebook size " + size + ", expected at most " + MAX_CODEBOOK);
            need(size, "codebook");
            byte[] codebook = Arrays.copyOfRange(data, offset, offset + size);
            offset += size;
            for (int i = 0; i < size; i++) {
                if (codebook[i] == 0 || codebook[i] == Byte.MIN_VALUE || (i > 0 && codebook[i] <= codebook[i - 1])) {
                    throw new BadInputException(where + " codebook entry " + i + " = " + codebook[i]
                            + ": entries must be nonzero INT8 values above -128, strictly rising");
                }
            }
            return codebook;
        }

        HuffmanCode code(String what, int symbols) throws BadInputException {
            int bytes = (symbols + 1) / 2;
            need(bytes, what + " code lengths");
            int[] lengths = new int[symbols];
            for (int s = 0; s < symbols; s++) lengths[s] = data[offset + s / 2] >> 4 * (s & 1) & 15;
            if (symbols % 2 == 1 && (data[offset + bytes - 1] & 0xF0) != 0) {
                throw new BadInputException(where + " " + what + " code lengths end in a nonzero padding nibble");
            }
            offset += bytes;
            try {
                return HuffmanCode.fromLengths(lengths);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(where + " " + what + " code: " + e.getMessage(), e);
            }
        }
    }
}
