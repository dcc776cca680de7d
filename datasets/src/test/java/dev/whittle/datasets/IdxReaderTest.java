package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {

    @TempDir
    Path dir;

    @Test
    void writtenFilesGetTheUsualPermissions() throws IOException {
        // as any new file in the folder (umask), not the owner-only ones of a JDK temporary file
        Path reference = Files.createFile(dir.resolve("reference"));
        Path labels = dir.resolve("labels-idx1-ubyte");
        IdxWriter.writeLabels(labels, new byte[] {1, 2, 3});
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(labels));
    }

    @Test
    void plainAndGzipFilesRoundTripThroughTheWriter() throws Exception {
        byte[] pixels = IdxBytes.pattern(7 * 5 * 3, 1);
        byte[] labels = {0, 1, 2, 3, 4, 5, (byte) 255};
        for (String suffix : new String[] {"", ".gz"}) {
            Path imageFile = dir.resolve("images-idx3-ubyte" + suffix);
            Path labelFile = dir.resolve("labels-idx1-ubyte" + suffix);
            IdxWriter.writeImages(imageFile, 7, 5, 3, pixels);
            IdxWriter.writeLabels(labelFile, labels);

            IdxReader.Images images = IdxReader.readImages(imageFile);
            assertEquals(7, images.count());
            assertEquals(5, images.rows());
            assertEquals(3, images.cols());
            assertArrayEquals(pixels, images.pixels());
            assertArrayEquals(labels, IdxReader.readLabels(labelFile).values());
        }
        // The gzip writer really compressed, and the reader found out by the magic, not the name.
        byte[] gz = Files.readAllBytes(dir.resolve("images-idx3-ubyte.gz"));
        assertEquals(0x1f, gz[0] & 0xff);
        Path misnamed = write("misnamed-plain-name", gz);
        assertArrayEquals(pixels, IdxReader.readImages(misnamed).pixels());
        Path plainNamedGz = write("plain.gz", IdxBytes.images(7, 5, 3, pixels));
        assertArrayEquals(pixels, IdxReader.readImages(plainNamedGz).pixels());
    }

    @Test
    void writerLeavesNoTemporaryFilesBehind() throws Exception {
        IdxWriter.writeLabels(dir.resolve("l"), new byte[] {1, 2});
        IdxWriter.writeLabels(dir.resolve("l"), new byte[] {3}); // replaces
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
        assertArrayEquals(new byte[] {3}, IdxReader.readLabels(dir.resolve("l")).values());
    }

    @Test
    void largeGzipFileGrowsItsBufferToTheExactSize() throws Exception {
        // More than the first 1 MiB buffer, and not a power of two, so growth and the final size are exercised.
        int count = 3000;
        byte[] pixels = IdxBytes.pattern(count * 28 * 28, 2);
        Path file = write("big.gz", IdxBytes.gzip(IdxBytes.images(count, 28, 28, pixels)));
        IdxReader.Images images = IdxReader.readImages(file);
        assertEquals(pixels.length, images.pixels().length);
        assertArrayEquals(pixels, images.pixels());
    }

    @Test
    void truncatedPlainFileIsRejectedWithTheClaimAndWhatIsThere() throws Exception {
        byte[] full = IdxBytes.images(10, 28, 28, new byte[10 * 784]);
        Path file = write("train-images-idx3-ubyte", Arrays.copyOf(full, 16 + 1000));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "10 images of 28x28 (7840 bytes)", "only 1000 bytes of data");
    }

    @Test
    void plainFileWithExtraBytesIsRejected() throws Exception {
        Path file = write("labels", Arrays.copyOf(IdxBytes.labels(new byte[] {1, 2, 3}), 8 + 5));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "3 labels (3 bytes)", "5 bytes of data");
    }

    @Test
    void gzipFileWithExtraDataIsRejected() throws Exception {
        Path file = write("labels.gz", IdxBytes.gzip(Arrays.copyOf(IdxBytes.labels(new byte[] {1, 2, 3}), 8 + 5)));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "3 labels", "more data");
    }

    @Test
    void wellFormedGzipOfTooLittleDataIsRejected() throws Exception {
        byte[] full = IdxBytes.images(10, 28, 28, new byte[10 * 784]);
        Path file = write("short.gz", IdxBytes.gzip(Arrays.copyOf(full, 16 + 1000)));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "10 images of 28x28 (7840 bytes)", "only 1000 bytes of data");
    }

    @Test
    void gzipStreamCutShortIsRejected() throws Exception {
        byte[] gz = IdxBytes.gzip(IdxBytes.images(50, 28, 28, IdxBytes.pattern(50 * 784, 3)));
        Path file = write("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "gzip stream is cut short", "50 images of 28x28");
    }

    @Test
    void gzipCutInsideItsOwnHeaderIsRejected() throws Exception {
        Path file = write("stub.gz", new byte[] {0x1f, (byte) 0x8b, 8});
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "gzip");
    }

    @Test
    void corruptDeflateDataIsRejected() throws Exception {
        byte[] gz = IdxBytes.gzip(IdxBytes.labels(IdxBytes.pattern(500, 4)));
        // The first deflate byte after the 10-byte gzip header: all ones sets block type 3, which is reserved.
        gz[10] = (byte) 0xff;
        Path file = write("corrupt.gz", gz);
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "corrupt gzip data");
    }

    @Test
    void gzipWithAWrongChecksumIsRejected() throws Exception {
        byte[] gz = IdxBytes.gzip(IdxBytes.labels(IdxBytes.pattern(500, 5)));
        gz[gz.length - 8] ^= 1; // the trailer: CRC-32, then the length
        Path file = write("badcrc.gz", gz);
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "corrupt gzip data");
    }

    @Test
    void labelFileGivenAsImagesIsRejectedByItsMagic() throws Exception {
        Path file = write("labels-as-images", IdxBytes.labels(new byte[] {1, 2, 3}));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "0x00000801", "rank 1", "0x00000803");
    }

    @Test
    void nonIdxMagicIsRejected() throws Exception {
        Path file = write("notes.txt", "hello, world, this is text".getBytes());
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "magic number 0x68656C6C", "not an IDX magic number");
    }

    @Test
    void nonByteDataTypeIsRejected() throws Exception {
        Path file = write("floats", IdxBytes.idx(0x00000D01, new int[] {2}, new byte[8]));
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readLabels(file));
        assertMessage(e, file, "data type 0x0D");
    }

    @Test
    void fileShorterThanTheHeaderIsRejected() throws Exception {
        Path file = write("tiny", new byte[] {0, 0, 8, 3, 0, 0});
        BadInputException e = assertThrows(BadInputException.class, () -> IdxReader.readImages(file));
        assertMessage(e, file, "6 bytes long", "16-byte header");
        Path empty = write("empty", new byte[0]);
        assertMessage(assertThrows(BadInputException.class, () -> IdxReader.readLabels(empty)), empty, "0 bytes long");
    }

    @Test
    void missingFileIsRejected() {
        Path file = dir.resolve("nowhere-idx1-ubyte");
        assertMessage(assertThrows(BadInputException.class, () -> IdxReader.readLabels(file)), file, "no such file");
    }

    @Test
    void zeroOrNegativeDimensionIsRejected() throws Exception {
        Path zero = write("zero-rows", IdxBytes.idx(0x00000803, new int[] {5, 0, 28}, new byte[0]));
        assertMessage(assertThrows(BadInputException.class, () -> IdxReader.readImages(zero)), zero, "rows is 0");
        Path negative = write("negative", IdxBytes.idx(0x00000801, new int[] {-3}, new byte[0]));
        assertMessage(assertThrows(BadInputException.class, () -> IdxReader.readLabels(negative)), negative, "label count is -3");
    }

    @Test
    void headerClaimingBillionsOfImagesFailsFastWithoutAllocating() throws Exception {
        byte[] header = IdxBytes.idx(0x00000803, new int[] {1 << 30, 28, 28}, IdxBytes.pattern(1000, 6));
        Path plain = write("huge", header);
        Path gzip = write("huge.gz", IdxBytes.gzip(header));
        for (Path file : new Path[] {plain, gzip}) {
            BadInputException e = assertAllocatesLittle(() -> IdxReader.readImages(file));
            assertMessage(e, file, "1073741824 images of 28x28 (841813590016 bytes)", "limit");
        }
    }

    @Test
    void gzipClaimJustUnderTheLimitIsNotAllocatedUpFront() throws Exception {
        // 2^30 labels is a legal size, so only the growing buffer stands between this file and a 1 GiB array.
        Path file = write("lying.gz", IdxBytes.gzip(IdxBytes.idx(0x00000801, new int[] {1 << 30}, IdxBytes.pattern(3000, 7))));
        BadInputException e = assertAllocatesLittle(() -> IdxReader.readLabels(file));
        assertMessage(e, file, "1073741824 labels", "only 3000 bytes of data");
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRejected() throws Exception {
        int big = Integer.MAX_VALUE;
        // The product overflows int and even long (about 2^93), which must not wrap to something small.
        Path file = write("overflow", IdxBytes.idx(0x00000803, new int[] {big, big, big}, new byte[16]));
        BadInputException e = assertAllocatesLittle(() -> IdxReader.readImages(file));
        assertMessage(e, file, big + " images of " + big + "x" + big, "limit");
        // 65536 * 65536 = 2^32 wraps to exactly 0 in int arithmetic.
        Path wraps = write("wraps", IdxBytes.idx(0x00000803, new int[] {1, 65536, 65536}, new byte[16]));
        assertMessage(assertThrows(BadInputException.class, () -> IdxReader.readImages(wraps)), wraps, "4294967296 bytes");
    }

    private interface Read {
        void run() throws Exception;
    }

    /** Runs a read that must fail, and checks it failed quickly and without allocating the claimed size. */
    private static BadInputException assertAllocatesLittle(Read read) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long before = threads.getCurrentThreadAllocatedBytes();
            BadInputException e = assertThrows(BadInputException.class, read::run);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 32L << 20, "allocated " + allocated + " bytes");
            return e;
        });
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    static void assertMessage(BadInputException e, Path file, String... parts) {
        String message = e.getMessage();
        assertTrue(message.contains(file.toString()), () -> "message does not name " + file + ": " + message);
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "message lacks \"" + part + "\": " + message);
        }
        assertFalse(message.contains("\n"), () -> "message is not one line: " + message);
    }
}
