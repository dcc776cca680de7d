package dev.whittle.compress.coreset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.datasets.IdxWriter;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a coreset is written as: bytes that read back to the same images, and a valid PNG. */
class OutputsTest {

    @TempDir
    Path dir;

    @Test
    void pixelScaleInvertsTheDatasetsNormalisationExactly() throws BadInputException {
        Dataset train = Datasets.open("mnist-10k", null, 0.2, 0).train();
        double[] ms = Datasets.pixelMeanStd(train).orElseThrow();
        PixelScale scale = new PixelScale(ms[0], ms[1]);
        float[] x = new float[784];
        for (int i = 0; i < 50; i++) {
            train.sample(i, x, 0);
            byte[] b = scale.toBytes(x);
            assertArrayEquals(x, scale.normalise(b), 0f);
        }
        assertEquals(0, scale.toByte(-1e9f));
        assertEquals(255, scale.toByte(1e9f));
    }

    @Test
    void idxRoundTripThroughDatasetsOpen() throws IOException, BadInputException {
        DataSplit split = Datasets.open("mnist-10k", null, 0.2, 0);
        double[] ms = Datasets.pixelMeanStd(split.train()).orElseThrow();
        PixelScale scale = new PixelScale(ms[0], ms[1]);
        int[] chosen = RandomSelection.select(ClassIndex.of(split.train()), Budget.perClass(3), 4);
        ArrayDataset subset = ArrayDataset.copyOf(new Subset(split.train(), chosen));
        byte[] pixels = scale.toBytes(subset.data());
        byte[] labels = new byte[chosen.length];
        for (int i = 0; i < chosen.length; i++) labels[i] = (byte) subset.label(i);
        IdxWriter.writeImages(dir.resolve("train-images-idx3-ubyte"), chosen.length, 28, 28, pixels);
        IdxWriter.writeLabels(dir.resolve("train-labels-idx1-ubyte"), labels);
        ArrayDataset test = ArrayDataset.copyOf(split.test().first(20));
        byte[] testLabels = new byte[20];
        for (int i = 0; i < 20; i++) testLabels[i] = (byte) test.label(i);
        IdxWriter.writeImages(dir.resolve("t10k-images-idx3-ubyte"), 20, 28, 28, scale.toBytes(test.data()));
        IdxWriter.writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), testLabels);

        DataSplit back = Datasets.open("idx:" + dir, null, 0.2, 0);
        assertEquals(30, back.train().size());
        assertEquals(20, back.test().size());
        double[] backMs = Datasets.pixelMeanStd(back.train()).orElseThrow();
        PixelScale backScale = new PixelScale(backMs[0], backMs[1]);
        float[] x = new float[784];
        for (int i = 0; i < 30; i++) {
            assertEquals(subset.label(i), back.train().label(i));
            back.train().sample(i, x, 0);
            byte[] got = backScale.toBytes(x);
            for (int j = 0; j < 784; j++) assertEquals(pixels[i * 784 + j], got[j], "image " + i + " pixel " + j);
        }
    }

    @Test
    void pngGridDecodes() throws DataFormatException {
        int classes = 3, rows = 4, cols = 5;
        int[] labels = {0, 1, 2, 0, 2, 2};
        byte[] images = new byte[labels.length * rows * cols];
        for (int i = 0; i < images.length; i++) images[i] = (byte) (i * 7);
        PngGrid.Image img = PngGrid.layout(images, labels, classes, rows, cols, 10);
        assertEquals(3 * (cols + 1) + 1, img.width());  // class 2 has three images
        assertEquals(classes * (rows + 1) + 1, img.height());
        // class 2's second image (sample 4) sits in the third row's second slot
        int top = 1 + 2 * (rows + 1), left = 1 + (cols + 1);
        assertEquals(images[4 * rows * cols + 2 * cols + 3], img.pixels()[(top + 2) * img.width() + left + 3]);

        byte[] png = PngGrid.encode(img);
        ByteBuffer in = ByteBuffer.wrap(png);
        byte[] sig = new byte[8];
        in.get(sig);
        assertArrayEquals(PngGrid.SIGNATURE, sig);
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        String type;
        int width = -1, height = -1;
        java.util.List<String> types = new java.util.ArrayList<>();
        do {
            int length = in.getInt();
            byte[] t = new byte[4];
            in.get(t);
            type = new String(t, java.nio.charset.StandardCharsets.US_ASCII);
            byte[] data = new byte[length];
            in.get(data);
            CRC32 crc = new CRC32();
            crc.update(t);
            crc.update(data);
            assertEquals((int) crc.getValue(), in.getInt(), "CRC of " + type);
            types.add(type);
            if (type.equals("IHDR")) {
                ByteBuffer h = ByteBuffer.wrap(data);
                width = h.getInt();
                height = h.getInt();
                assertEquals(8, h.get(), "bit depth");
                assertEquals(0, h.get(), "colour type grey");
            }
            if (type.equals("IDAT")) idat.writeBytes(data);
        } while (!type.equals("IEND"));
        assertEquals(java.util.List.of("IHDR", "IDAT", "IEND"), types);
        assertEquals(0, in.remaining());
        assertEquals(img.width(), width);
        assertEquals(img.height(), height);
        Inflater inflater = new Inflater();
        inflater.setInput(idat.toByteArray());
        byte[] raw = new byte[height * (width + 1) + 1];
        int n = inflater.inflate(raw);
        assertTrue(inflater.finished());
        assertEquals(height * (width + 1), n);
        for (int y = 0; y < height; y++) {
            assertEquals(0, raw[y * (width + 1)], "filter byte of scanline " + y);
            for (int xx = 0; xx < width; xx++) assertEquals(img.pixels()[y * width + xx], raw[y * (width + 1) + 1 + xx]);
        }
    }
}
