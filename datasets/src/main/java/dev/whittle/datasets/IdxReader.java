package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files of unsigned bytes (LeCun et al., 1998: the MNIST distribution format), plain
 * or gzip-compressed. Everything the header claims is checked before memory is reserved for it.
 *
 * <pre>
 *   offset 0      00 00 08 RR     magic: two zero bytes, type 0x08 (unsigned byte), rank RR
 *   offset 4      int32 BE        dimension 0 (the number of items)
 *   ...           int32 BE        dimensions 1 .. RR-1 (rows, columns for images)
 *   offset 4+4RR  d0*d1*...       the data, row-major, one byte per value
 * </pre>
 *
 * Gzip is recognised by its magic bytes {@code 1f 8b}, not by the file name.
 */
final class IdxReader {

    /** The largest data section accepted: what a Java byte array can hold, with some slack. */
    static final long MAX_DATA_BYTES = (1L << 31) - 16;

    /**
     * The first buffer for data of unknown length (gzip, class-path resources). A header may
     * claim gigabytes that the stream never delivers, so the buffer only grows as bytes arrive.
     */
    private static final int FIRST_BUFFER_BYTES = 1 << 20;

    private static final int UNSIGNED_BYTE = 0x08;

    /** Images in an IDX file of rank 3: {@code count} images of {@code rows x cols} bytes. */
    record Images(String source, int count, int rows, int cols, byte[] pixels) {
        int pixelsPerImage() {
            return rows * cols;
        }
    }

    /** Labels in an IDX file of rank 1, one unsigned byte each. */
    record Labels(String source, byte[] values) {
        int count() {
            return values.length;
        }
    }

    /** What a file is expected to hold; fixes the rank and the words used in messages. */
    private enum Kind {
        IMAGES(3, "image", "image count", "rows", "columns"),
        LABELS(1, "label", "label count");

        final int rank;
        final String noun;
        final String[] fields;

        Kind(int rank, String noun, String... fields) {
            this.rank = rank;
            this.noun = noun;
            this.fields = fields;
        }

        int magic() {
            return UNSIGNED_BYTE << 8 | rank;
        }

        int headerBytes() {
            return 4 + 4 * rank;
        }

        /** e.g. "60000 images of 28x28" or "60000 labels". */
        String claim(int[] dims) {
            String items = dims[0] + " " + noun + "s";
            return rank == 3 ? items + " of " + dims[1] + "x" + dims[2] : items;
        }
    }

    private final String source;
    private final Kind kind;
    // Progress, kept in fields so that an I/O failure can say how far reading got.
    private int[] dims;
    private long claimedDataBytes = -1;
    private long dataBytesRead;

    private IdxReader(String source, Kind kind) {
        this.source = source;
        this.kind = kind;
    }

    static Images readImages(Path file) throws BadInputException {
        IdxReader reader = new IdxReader(file.toString(), Kind.IMAGES);
        return reader.images(reader.read(file));
    }

    /** Reads images from a stream of unknown length (closed afterwards); {@code source} names it in messages. */
    static Images readImages(InputStream in, String source) throws BadInputException {
        IdxReader reader = new IdxReader(source, Kind.IMAGES);
        return reader.images(reader.read(in, -1));
    }

    static Labels readLabels(Path file) throws BadInputException {
        return new Labels(file.toString(), new IdxReader(file.toString(), Kind.LABELS).read(file));
    }

    static Labels readLabels(InputStream in, String source) throws BadInputException {
        return new Labels(source, new IdxReader(source, Kind.LABELS).read(in, -1));
    }

    private Images images(byte[] pixels) {
        return new Images(source, dims[0], dims[1], dims[2], pixels);
    }

    private byte[] read(Path file) throws BadInputException {
        long length;
        InputStream in;
        try {
            length = Files.size(file);
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new BadInputException(source + ": no such file");
        } catch (AccessDeniedException e) {
            throw new BadInputException(source + ": permission denied");
        } catch (IOException e) {
            throw new BadInputException(source + ": cannot open (" + e.getMessage() + ")", e);
        }
        return read(in, length);
    }

    /**
     * Reads the whole stream and closes it. {@code fileLength} is the stored size when known
     * ({@code -1} otherwise); it is used only when the content turns out not to be gzip.
     */
    private byte[] read(InputStream raw, long fileLength) throws BadInputException {
        try (BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16)) {
            if (!startsWithGzipMagic(buffered)) return readIdx(buffered, fileLength);
            try (GZIPInputStream unzipped = new GZIPInputStream(buffered, 1 << 16)) {
                return readIdx(unzipped, -1);
            }
        } catch (ZipException e) {
            throw new BadInputException(source + ": corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            // GZIPInputStream's way of saying the compressed stream stops mid-way.
            String where = claimedDataBytes < 0 ? "inside the IDX header"
                    : "after " + dataBytesRead + " of the " + claimedDataBytes + " bytes of data its header claims ("
                      + kind.claim(dims) + ")";
            throw new BadInputException(source + ": gzip stream is cut short " + where, e);
        } catch (IOException e) {
            throw new BadInputException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Reads header and data from the (decompressed) stream; {@code knownLength} is -1 if unknown. */
    private byte[] readIdx(InputStream in, long knownLength) throws IOException, BadInputException {
        readHeader(in, knownLength);
        claimedDataBytes = checkedDataSize();
        long dataInFile = knownLength - kind.headerBytes();
        if (knownLength >= 0 && dataInFile != claimedDataBytes) {
            throw new BadInputException(source + ": header claims " + claimWithBytes(claimedDataBytes)
                    + " but the file holds " + (dataInFile < claimedDataBytes ? "only " : "") + dataInFile + " bytes of data");
        }
        byte[] data = readData(in, (int) claimedDataBytes, knownLength >= 0);
        // Reading on to the end also makes GZIPInputStream check the trailer's CRC-32.
        if (in.read() != -1) {
            throw new BadInputException(source + ": header claims " + claimWithBytes(claimedDataBytes)
                    + " but the file holds more data after them");
        }
        return data;
    }

    private static boolean startsWithGzipMagic(BufferedInputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }

    private void readHeader(InputStream in, long knownLength) throws IOException, BadInputException {
        byte[] header = new byte[kind.headerBytes()];
        int got = readUpTo(in, header, 0, 4);
        if (got == 4) {
            int magic = intAt(header, 0);
            if (magic >>> 16 != 0) {
                throw new BadInputException(source + ": magic number " + hex(magic) + " is not an IDX magic number (expected "
                        + hex(kind.magic()) + " for an IDX " + kind.noun + " file)");
            }
            int type = magic >>> 8 & 0xff;
            if (type != UNSIGNED_BYTE) {
                throw new BadInputException(source + ": IDX data type 0x" + String.format("%02X", type)
                        + " is not supported (magic " + hex(magic) + "); only unsigned bytes (0x08) are");
            }
            int rank = magic & 0xff;
            if (rank != kind.rank) {
                throw new BadInputException(source + ": magic number " + hex(magic) + " gives rank " + rank + ", but an IDX "
                        + kind.noun + " file has rank " + kind.rank + " (magic " + hex(kind.magic()) + ")");
            }
            got += readUpTo(in, header, 4, header.length - 4);
        }
        if (got < header.length) {
            throw new BadInputException(source + (knownLength >= 0 ? ": file is " + knownLength + " bytes long" : ": data ends after " + got + " bytes")
                    + ", shorter than the " + header.length + "-byte header of an IDX " + kind.noun + " file");
        }
        int[] d = new int[kind.rank];
        for (int i = 0; i < d.length; i++) {
            d[i] = intAt(header, 4 + 4 * i);
            if (d[i] <= 0) {
                throw new BadInputException(source + ": header field " + kind.fields[i] + " is " + d[i] + "; it must be positive");
            }
        }
        dims = d;
    }

    /** The data size the header claims, refused before anything is allocated if it is too large. */
    private long checkedDataSize() throws BadInputException {
        // Each factor is below 2^31 and the running product stays at most MAX_DATA_BYTES (< 2^31)
        // while it is checked, so the long multiplication itself cannot overflow.
        long product = 1;
        for (int d : dims) {
            product *= d;
            if (product > MAX_DATA_BYTES) {
                BigInteger exact = BigInteger.ONE;
                for (int e : dims) exact = exact.multiply(BigInteger.valueOf(e));
                throw new BadInputException(source + ": header claims " + kind.claim(dims) + " (" + exact
                        + " bytes), more than the " + MAX_DATA_BYTES + "-byte limit");
            }
        }
        return product;
    }

    private String claimWithBytes(long dataBytes) {
        return kind.claim(dims) + " (" + dataBytes + " bytes)";
    }

    /**
     * Reads exactly {@code size} bytes. With the length unknown, the buffer starts small and is
     * doubled only after the stream has proved it has another byte to put in it, so a lying
     * header costs at most twice the data that really exists.
     */
    private byte[] readData(InputStream in, int size, boolean lengthKnown) throws IOException, BadInputException {
        byte[] buffer = new byte[lengthKnown ? size : Math.min(size, FIRST_BUFFER_BYTES)];
        int filled = 0;
        while (filled < size) {
            if (filled == buffer.length) {
                int next = in.read();
                if (next < 0) break;
                buffer = Arrays.copyOf(buffer, (int) Math.min(size, 2L * buffer.length));
                buffer[filled++] = (byte) next;
                dataBytesRead = filled;
                continue;
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) break;
            filled += n;
            dataBytesRead = filled;
        }
        if (filled < size) {
            throw new BadInputException(source + ": header claims " + claimWithBytes(size)
                    + " but the file holds only " + filled + " bytes of data");
        }
        return buffer;
    }

    /** Reads until {@code len} bytes or the end of the stream; returns how many arrived. */
    private static int readUpTo(InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        while (total < len) {
            int n = in.read(b, off + total, len - total);
            if (n < 0) break;
            total += n;
        }
        return total;
    }

    private static int intAt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    private static String hex(int value) {
        return String.format("0x%08X", value);
    }
}
