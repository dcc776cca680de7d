package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.whittle.datasets.IdxReaderTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetsTest {

    @TempDir
    Path dir;

    /** Writes an IDX folder of 2x2 images; {@code gz} picks compressed names. */
    private Path idxFolder(String name, byte[] trainLabels, byte[] testLabels, boolean gz) throws IOException {
        Path folder = dir.resolve(name);
        String ext = gz ? ".gz" : "";
        IdxWriter.writeImages(folder.resolve("train-images-idx3-ubyte" + ext), trainLabels.length, 2, 2,
                IdxBytes.pattern(4 * trainLabels.length, 11));
        IdxWriter.writeLabels(folder.resolve("train-labels-idx1-ubyte" + ext), trainLabels);
        IdxWriter.writeImages(folder.resolve("t10k-images-idx3-ubyte" + ext), testLabels.length, 2, 2,
                IdxBytes.pattern(4 * testLabels.length, 12));
        IdxWriter.writeLabels(folder.resolve("t10k-labels-idx1-ubyte" + ext), testLabels);
        return folder;
    }

    private static DataSplit open(String name) throws BadInputException {
        return Datasets.open(name, null, Datasets.DEFAULT_TEST_FRACTION, 0, null, null);
    }

    @Test
    void idxFolderOpensWithClassesFromItsLabelsAndTrainingNormalisation() throws Exception {
        for (boolean gz : new boolean[] {false, true}) {
            Path folder = idxFolder("set" + gz, new byte[] {0, 3, 1}, new byte[] {2, 0}, gz);
            DataSplit split = open("idx:" + folder);
            assertEquals(3, split.train().size());
            assertEquals(2, split.test().size());
            assertEquals(4, split.train().numClasses());
            assertEquals(4, split.test().numClasses());
            assertEquals("idx:" + folder + "/train", split.train().name());
            assertArrayEquals(new int[] {1, 2, 2}, split.test().sampleShape());
            assertEquals(3, split.train().label(1));
            assertEquals(2, split.test().label(0));

            // Normalisation by hand: the 12 training pixels' mean and population std (over /255),
            // applied to the test split too.
            byte[] trainPixels = IdxBytes.pattern(12, 11);
            double mean = 0;
            for (byte b : trainPixels) mean += (b & 0xff) / 255.0;
            mean /= 12;
            double var = 0;
            for (byte b : trainPixels) var += Math.pow((b & 0xff) / 255.0 - mean, 2);
            double std = Math.sqrt(var / 12);
            byte[] testPixels = IdxBytes.pattern(8, 12);
            float[] got = new float[4];
            split.test().sample(1, got, 0);
            for (int i = 0; i < 4; i++) {
                assertEquals((testPixels[4 + i] & 0xff) / 255.0 - mean, got[i] * std, 1e-6);
            }
        }
    }

    @Test
    void idxFolderWithOnlyOneLabelStillHasTwoClasses() throws Exception {
        Path folder = idxFolder("ones", new byte[] {0, 0}, new byte[] {0}, false);
        assertEquals(2, open("idx:" + folder).train().numClasses());
    }

    @Test
    void labelCountDifferentFromImageCountNamesBothFiles() throws Exception {
        Path folder = idxFolder("mismatch", new byte[] {0, 1, 2}, new byte[] {0}, false);
        IdxWriter.writeLabels(folder.resolve("train-labels-idx1-ubyte"), new byte[] {0, 1});
        BadInputException e = assertThrows(BadInputException.class, () -> open("idx:" + folder));
        assertMessage(e, folder.resolve("train-images-idx3-ubyte"), "3 images", "2 labels");
        assertTrue(e.getMessage().contains(folder.resolve("train-labels-idx1-ubyte").toString()), e.getMessage());
    }

    @Test
    void testImagesOfAnotherSizeAreRejected() throws Exception {
        Path folder = idxFolder("sizes", new byte[] {0, 1}, new byte[] {1}, false);
        IdxWriter.writeImages(folder.resolve("t10k-images-idx3-ubyte"), 1, 3, 3, new byte[9]);
        BadInputException e = assertThrows(BadInputException.class, () -> open("idx:" + folder));
        assertMessage(e, folder.resolve("t10k-images-idx3-ubyte"), "3x3", "2x2");
    }

    @Test
    void folderMissingSomeFilesNamesThem() throws Exception {
        Path folder = idxFolder("partial", new byte[] {0, 1}, new byte[] {1}, true);
        Files.delete(folder.resolve("t10k-labels-idx1-ubyte.gz"));
        BadInputException e = assertThrows(BadInputException.class, () -> open("idx:" + folder));
        assertMessage(e, folder, "t10k-labels-idx1-ubyte[.gz]");
    }

    @Test
    void idxOfAMissingFolderIsRejected() {
        Path folder = dir.resolve("nothing-here");
        assertMessage(assertThrows(BadInputException.class, () -> open("idx:" + folder)), folder, "is not a folder holding", "images-idx3");
        assertThrows(BadInputException.class, () -> open("idx:"));
    }

    @Test
    void mnistFromDataDirHasTenClassesAndRejectsLabelTen() throws Exception {
        Path good = idxFolder("mnist", new byte[] {0, 9}, new byte[] {5}, true);
        DataSplit split = Datasets.open("mnist", good, 0.2, 0, null, null);
        assertEquals(10, split.train().numClasses());
        assertEquals("mnist/train", split.train().name());

        Path bad = idxFolder("mnist-bad", new byte[] {0, 9}, new byte[] {10}, true);
        BadInputException e = assertThrows(BadInputException.class, () -> Datasets.open("mnist", bad, 0.2, 0, null, null));
        assertMessage(e, bad.resolve("t10k-labels-idx1-ubyte.gz"), "label at index 0 is 10", "0..9");
    }

    @Test
    void mnistIsFoundUnderWhittleData() throws Exception {
        idxFolder("data/mnist", new byte[] {1, 2}, new byte[] {3}, false);
        DataSplit split = Datasets.open("mnist", null, 0.2, 0, dir.resolve("data").toString(), null);
        assertEquals(2, split.train().size());
    }

    @Test
    void mnistWithNowhereToLookSaysHowToProvideIt() {
        BadInputException e = assertThrows(BadInputException.class, () -> open("mnist"));
        assertTrue(e.getMessage().contains("--data-dir"), e.getMessage());
        assertTrue(e.getMessage().contains("WHITTLE_DATA"), e.getMessage());
    }

    @Test
    void fashionMnistAbsentNamesEveryPlaceLookedAndHowToGetIt() throws Exception {
        Path dataDir = Files.createDirectory(dir.resolve("given"));
        Path whittleData = Files.createDirectory(dir.resolve("whittle-data"));
        Path system = dir.resolve("usr-share");
        BadInputException e = assertThrows(BadInputException.class,
                () -> Datasets.open("fashion-mnist", dataDir, 0.2, 0, whittleData.toString(), system));
        assertMessage(e, dataDir, whittleData.resolve("fashion-mnist").toString(), system.toString(),
                "apt-get install dataset-fashion-mnist", "--data-dir");
    }

    @Test
    void fashionMnistSearchOrderIsDataDirThenWhittleDataThenSystem() throws Exception {
        Path system = idxFolder("system", new byte[] {1}, new byte[] {1}, true);
        idxFolder("env/fashion-mnist", new byte[] {1, 2}, new byte[] {1}, true);
        Path given = idxFolder("given", new byte[] {1, 2, 3}, new byte[] {1}, true);
        String env = dir.resolve("env").toString();
        assertEquals(3, Datasets.open("fashion-mnist", given, 0.2, 0, env, system).train().size());
        assertEquals(2, Datasets.open("fashion-mnist", dir.resolve("empty"), 0.2, 0, env, system).train().size());
        assertEquals(1, Datasets.open("fashion-mnist", null, 0.2, 0, null, system).train().size());
    }

    @Test
    void unknownNameListsTheAcceptedNames() {
        BadInputException e = assertThrows(BadInputException.class, () -> open("cifar-10"));
        for (String name : new String[] {"cifar-10", "mnist-10k", "fashion-mnist", "mnist", "idx:DIR", "csv:PATH"}) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        assertThrows(BadInputException.class, () -> open(""));
        assertThrows(BadInputException.class, () -> open(null));
    }

    @Test
    void describeCoversEveryName() {
        String help = Datasets.describe();
        for (String name : new String[] {"mnist-10k", "fashion-mnist", "mnist ", "idx:DIR", "csv:PATH"}) {
            assertTrue(help.contains(name), name);
        }
    }

    @Test
    void samplesAreWrittenAtTheOffsetAndNothingElseIsTouched() throws Exception {
        Path folder = idxFolder("offset", new byte[] {0, 1}, new byte[] {1}, false);
        Dataset train = open("idx:" + folder).train();
        float[] dst = new float[10];
        java.util.Arrays.fill(dst, 42f);
        train.sample(1, dst, 3);
        for (int i : new int[] {0, 1, 2, 7, 8, 9}) assertEquals(42f, dst[i]);
        for (int i = 3; i < 7; i++) assertTrue(dst[i] != 42f);
    }
}
