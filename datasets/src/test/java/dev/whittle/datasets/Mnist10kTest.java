package dev.whittle.datasets;

import dev.whittle.engine.Dataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Mnist10kTest {

    private static DataSplit split;

    @BeforeAll
    static void open() throws Exception {
        split = Datasets.open(Datasets.DEFAULT, null, Datasets.DEFAULT_TEST_FRACTION, 0);
    }

    @Test
    void splitsAreTheFirst8000AndTheLast2000Digits() {
        Dataset train = split.train();
        Dataset test = split.test();
        assertEquals(8000, train.size());
        assertEquals(2000, test.size());
        assertEquals("mnist-10k/train", train.name());
        assertEquals("mnist-10k/test", test.name());
        assertArrayEquals(new int[] {1, 28, 28}, train.sampleShape());
        assertArrayEquals(new int[] {1, 28, 28}, test.sampleShape());
        assertEquals(10, train.numClasses());
        assertEquals(10, test.numClasses());
        // The first labels of the embedded file, read independently with zcat | od.
        int[] first = {6, 8, 5, 4, 7, 0, 2, 5, 6, 6};
        for (int i = 0; i < first.length; i++) assertEquals(first[i], train.label(i));
    }

    @Test
    void classCountsMatchTheFile() {
        // Counted independently from the label file: the first 8000 and all 10000.
        int[] trainCounts = {787, 916, 771, 816, 781, 707, 805, 859, 749, 809};
        int[] allCounts = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
        int[] train = new int[10];
        int[] test = new int[10];
        for (int i = 0; i < split.train().size(); i++) train[split.train().label(i)]++;
        for (int i = 0; i < split.test().size(); i++) test[split.test().label(i)]++;
        assertArrayEquals(trainCounts, train);
        for (int c = 0; c < 10; c++) assertEquals(allCounts[c], train[c] + test[c]);
    }

    @Test
    void trainingSamplesAreNormalisedToMeanZeroAndStdOne() {
        Dataset train = split.train();
        float[] image = new float[784];
        double sum = 0;
        double sumOfSquares = 0;
        for (int i = 0; i < train.size(); i++) {
            train.sample(i, image, 0);
            for (float v : image) {
                sum += v;
                sumOfSquares += (double) v * v;
            }
        }
        double n = 784.0 * train.size();
        double mean = sum / n;
        assertEquals(0, mean, 1e-5);
        assertEquals(1, Math.sqrt(sumOfSquares / n - mean * mean), 1e-5);
    }

    @Test
    void theRecordedNormalisationGivesTheSamplesBitForBit() throws Exception {
        // what a model file records lets a program without this module prepare raw pixels exactly
        var n = Datasets.inputNormalization(split.train()).orElseThrow();
        var read = dev.whittle.engine.io.InputNormalization.of(java.util.Map.of(dev.whittle.engine.io.InputNormalization.KEY, n.toJson()),
                java.nio.file.Path.of("m")).orElseThrow();
        float[] want = new float[784];
        for (int i : new int[] {0, 1, 7999}) {
            split.train().sample(i, want, 0);
            assertArrayEquals(want, read.apply(((ImageDataset) split.train()).rawPixels(i)), "train " + i);
        }
        split.test().sample(5, want, 0);
        assertArrayEquals(want, read.apply(((ImageDataset) split.test()).rawPixels(5)), "test 5");
    }

    @Test
    void testSplitUsesTheTrainingStatistics() {
        // Pixel statistics of the first 8000 images, computed independently in Python with exact fractions.
        PixelStats stats = ((ImageDataset) split.train()).stats();
        assertEquals(0.1309078856542617, stats.mean(), 1e-12);
        assertEquals(0.30847091602611456, stats.std(), 1e-12);
        assertEquals(stats, ((ImageDataset) split.test()).stats());
        // A black pixel (the top-left corner of every digit) becomes -mean/std in both splits.
        float black = (float) (-stats.mean() / stats.std());
        float[] image = new float[784 + 3];
        split.test().sample(1999, image, 3);
        assertEquals(black, image[3]);
        split.train().sample(0, image, 0);
        assertEquals(black, image[0]);
    }

    @Test
    void indicesOutsideASplitAreRejected() {
        // The test split is a view of the same array: index 2000 must not read past it, nor -1 into train.
        assertThrows(IndexOutOfBoundsException.class, () -> split.test().label(2000));
        assertThrows(IndexOutOfBoundsException.class, () -> split.test().label(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> split.train().sample(8000, new float[784], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> split.train().sample(0, new float[783], 0));
    }
}
