package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.whittle.datasets.IdxReaderTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvDatasetTest {

    @TempDir
    Path dir;

    private Path csv(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    /** 150 rows, 50 per class: column 1 is the row number (an identity we can recover), column 2 constant. */
    private Path threeClasses() throws IOException {
        StringBuilder text = new StringBuilder("id,constant,label\n");
        for (int i = 0; i < 150; i++) text.append(i).append(",7.5,").append(i % 3).append('\n');
        return csv("three.csv", text.toString());
    }

    private static DataSplit open(Path file, double fraction, long seed) throws BadInputException {
        return Datasets.open("csv:" + file, null, fraction, seed);
    }

    @Test
    void headerIsSkippedAndShapeAndClassesFollowTheTable() throws Exception {
        DataSplit split = open(threeClasses(), 0.2, 0);
        Dataset train = split.train();
        assertArrayEquals(new int[] {2}, train.sampleShape());
        assertEquals(3, train.numClasses());
        assertEquals(3, split.test().numClasses());
        assertEquals(150, train.size() + split.test().size());
    }

    @Test
    void theRecordedStandardisationGivesTheRowsBitForBit() throws Exception {
        Path file = csv("mixed.csv", "a,b,label\n1.5,1000,0\n2.25,1010,1\n-3,990,0\n4,1020,1\n0.5,1005,0\n7,995,1\n");
        DataSplit split = open(file, 0.34, 1);
        var n = Datasets.inputNormalization(split.train()).orElseThrow();
        CsvTable table = CsvTable.read(file);
        float[] want = new float[2];
        // every row of the table, normalised by the recorded statistics, is one of the split's samples
        java.util.Set<String> samples = new java.util.HashSet<>();
        for (var d : java.util.List.of(split.train(), split.test())) {
            for (int i = 0; i < d.size(); i++) {
                d.sample(i, want, 0);
                samples.add(Arrays.toString(want));
            }
        }
        for (int row = 0; row < table.rows(); row++) {
            float[] raw = Arrays.copyOfRange(table.values(), 2 * row, 2 * row + 2);
            assertTrue(samples.contains(Arrays.toString(n.apply(raw))), "row " + row + ": " + Arrays.toString(n.apply(raw)));
        }
    }

    @Test
    void testSplitTakesTheFractionOfEachClass() throws Exception {
        DataSplit split = open(threeClasses(), 0.2, 0);
        int[] testCounts = new int[3];
        for (int i = 0; i < split.test().size(); i++) testCounts[split.test().label(i)]++;
        assertArrayEquals(new int[] {10, 10, 10}, testCounts);
        assertEquals(120, split.train().size());
    }

    @Test
    void splitIsAPartitionAndDependsOnlyOnTheSeed() {
        int[] labels = new int[1000];
        for (int i = 0; i < labels.length; i++) labels[i] = (i * 7) % 5 == 0 ? 0 : i % 4;
        StratifiedSplit a = StratifiedSplit.of(labels, 4, 0.3, 42);
        StratifiedSplit b = StratifiedSplit.of(labels, 4, 0.3, 42);
        StratifiedSplit c = StratifiedSplit.of(labels, 4, 0.3, 43);
        assertArrayEquals(a.test(), b.test());
        assertArrayEquals(a.train(), b.train());
        assertFalse(Arrays.equals(a.test(), c.test()));

        boolean[] seen = new boolean[labels.length];
        for (int[] part : new int[][] {a.train(), a.test()}) {
            for (int k = 0; k < part.length; k++) {
                assertFalse(seen[part[k]], "row in both splits");
                seen[part[k]] = true;
                if (k > 0) assertTrue(part[k] > part[k - 1], "not in file order");
            }
        }
        for (boolean s : seen) assertTrue(s, "row in neither split");
    }

    @Test
    void everyClassKeepsATrainingRow() {
        int[] labels = {0, 0, 0, 0, 0, 1, 2, 2};
        StratifiedSplit split = StratifiedSplit.of(labels, 3, 0.5, 0);
        int[] trainCounts = new int[3];
        for (int row : split.train()) trainCounts[labels[row]]++;
        assertArrayEquals(new int[] {2, 1, 1}, trainCounts); // round(2.5)=3 of class 0; class 1 alone stays; 1 of class 2
    }

    @Test
    void featuresAreStandardisedWithTheTrainingStatistics() throws Exception {
        DataSplit split = open(threeClasses(), 0.2, 5);
        Dataset train = split.train();
        // The defining properties: each training column has mean 0 and (population) variance 1.
        float[] row = new float[2];
        double sum = 0;
        double sumOfSquares = 0;
        for (int i = 0; i < train.size(); i++) {
            train.sample(i, row, 0);
            sum += row[0];
            sumOfSquares += row[0] * row[0];
            assertEquals(0f, row[1], "a constant column is centred and left unscaled");
        }
        assertEquals(0, sum / train.size(), 1e-6);
        assertEquals(1, sumOfSquares / train.size(), 1e-5);

        // The test split goes through the same increasing map, so its ids stay in file order
        // (standardisationMatchesAHandComputation checks the values themselves).
        Dataset test = split.test();
        float[] previous = new float[2];
        test.sample(0, previous, 0);
        for (int i = 1; i < test.size(); i++) {
            test.sample(i, row, 0);
            assertTrue(row[0] > previous[0]);
            assertEquals(0f, row[1]);
            previous[0] = row[0];
        }
    }

    @Test
    void standardisationMatchesAHandComputation() throws Exception {
        // Two classes of four rows; fraction 0.25 puts exactly one row of each class in test.
        Path file = csv("small.csv", "1,0\n2,0\n3,0\n4,0\n10,1\n20,1\n30,1\n40,1\n");
        DataSplit split = open(file, 0.25, 3);
        assertEquals(6, split.train().size());
        double[] all = {1, 2, 3, 4, 10, 20, 30, 40};
        // Identify the held-out rows: the train values are a subset of all, standardised.
        // Reconstruct by trying every pair of held-out rows (one per class) and matching.
        float[] got = new float[6];
        float[] one = new float[1];
        for (int i = 0; i < 6; i++) {
            split.train().sample(i, one, 0);
            got[i] = one[0];
        }
        boolean matched = false;
        for (int a = 0; a < 4 && !matched; a++) {
            for (int b = 4; b < 8 && !matched; b++) {
                double[] train = new double[6];
                int n = 0;
                for (int r = 0; r < 8; r++) if (r != a && r != b) train[n++] = all[r];
                double mean = Arrays.stream(train).average().orElseThrow();
                double std = Math.sqrt(Arrays.stream(train).map(x -> (x - mean) * (x - mean)).sum() / 6);
                boolean ok = true;
                for (int i = 0; i < 6; i++) ok &= Math.abs(got[i] - (train[i] - mean) / std) < 1e-6;
                if (ok) {
                    matched = true;
                    split.test().sample(0, one, 0);
                    assertEquals((all[a] - mean) / std, one[0], 1e-6);
                    split.test().sample(1, one, 0);
                    assertEquals((all[b] - mean) / std, one[0], 1e-6);
                }
            }
        }
        assertTrue(matched, "train values are not a standardised subset: " + Arrays.toString(got));
    }

    @Test
    void untidyButValidTextIsAccepted() throws Exception {
        Path file = csv("untidy.csv", "\r\n 1.5 , -2e1 ,1\r\n\r\n+3,.5,0.0\r\n4,5,1\r\n6,7,0\r\n");
        DataSplit split = open(file, 0.5, 0);
        assertEquals(4, split.train().size() + split.test().size());
        assertEquals(2, split.train().numClasses());
    }

    @Test
    void aTableOfOneClassIsRefused() throws Exception {
        Path file = csv("one.csv", "a,label\n1,0\n2,0\n3,0\n");
        BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0));
        assertMessage(e, file, "every row has label 0", "at least two classes");
    }

    @Test
    void notANumberNamesLineColumnAndValue() throws Exception {
        Path file = csv("data.csv", "a,b,label\n1,2,0\n3,abc,1\n");
        BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0));
        assertMessage(e, file, "line 3 column 2", "\"abc\" is not a number");
    }

    @Test
    void specialFloatSpellingsAreNotNumbers() throws Exception {
        for (String bad : new String[] {"NaN", "Infinity", "0x1p3", "1.5f", "--1", ""}) {
            Path file = csv("special.csv", "1,2,0\n3," + bad + ",1\n");
            BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0), bad);
            assertMessage(e, file, "line 2 column 2");
        }
        Path huge = csv("huge.csv", "1,0\n1e39,1\n");
        assertMessage(assertThrows(BadInputException.class, () -> open(huge, 0.2, 0)), huge, "line 2 column 1", "too large");
    }

    @Test
    void firstLineWithSomeNumbersIsDataNotAHeader() throws Exception {
        // A typo in the first row must be reported, not silently dropped as a header.
        Path file = csv("typo.csv", "1,x2,0\n3,4,1\n");
        BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0));
        assertMessage(e, file, "line 1 column 2", "\"x2\"");
    }

    @Test
    void raggedRowIsRejected() throws Exception {
        Path file = csv("ragged.csv", "x,y,label\n1,2,0\n1,2,3,0\n");
        BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0));
        assertMessage(e, file, "line 3", "4 columns", "line 1 has 3");
    }

    @Test
    void badLabelsAreRejected() throws Exception {
        String[][] cases = {{"-1", "negative"}, {"2.5", "not an integer"}, {"cat", "not a number"}, {"100000", "larger than 9999"}};
        for (String[] c : cases) {
            Path file = csv("labels.csv", "1,2,0\n3,4," + c[0] + "\n");
            BadInputException e = assertThrows(BadInputException.class, () -> open(file, 0.2, 0), c[0]);
            assertMessage(e, file, "line 2 column 3", "label", c[1]);
        }
    }

    @Test
    void emptyFilesAndTablesWithoutFeaturesAreRejected() throws Exception {
        Path empty = csv("empty.csv", "");
        assertMessage(assertThrows(BadInputException.class, () -> open(empty, 0.2, 0)), empty, "empty");
        Path blank = csv("blank.csv", "\n  \n");
        assertMessage(assertThrows(BadInputException.class, () -> open(blank, 0.2, 0)), blank, "empty");
        Path headerOnly = csv("header.csv", "x,label\n");
        assertMessage(assertThrows(BadInputException.class, () -> open(headerOnly, 0.2, 0)), headerOnly, "no data rows");
        Path labelsOnly = csv("labels-only.csv", "0\n1\n");
        assertMessage(assertThrows(BadInputException.class, () -> open(labelsOnly, 0.2, 0)), labelsOnly, "line 1", "1 column");
    }

    @Test
    void tooFewRowsForATestSplitIsRejected() throws Exception {
        Path file = csv("few.csv", "1,0\n2,1\n3,0\n");
        assertMessage(assertThrows(BadInputException.class, () -> open(file, 0.2, 0)), file, "no test rows");
    }

    @Test
    void testFractionMustBeStrictlyBetweenZeroAndOne() throws Exception {
        Path file = threeClasses();
        for (double f : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            BadInputException e = assertThrows(BadInputException.class, () -> open(file, f, 0));
            assertTrue(e.getMessage().contains("test fraction"), e.getMessage());
        }
    }

    @Test
    void missingFileIsRejected() {
        Path file = dir.resolve("absent.csv");
        assertMessage(assertThrows(BadInputException.class, () -> open(file, 0.2, 0)), file, "no such file");
        assertThrows(BadInputException.class, () -> Datasets.open("csv:", null, 0.2, 0));
    }

    @Test
    void invalidUtf8IsRejected() throws Exception {
        Path file = Files.write(dir.resolve("latin1.csv"), new byte[] {'1', ',', (byte) 0xe9, '\n'});
        assertMessage(assertThrows(BadInputException.class, () -> open(file, 0.2, 0)), file, "UTF-8");
    }
}
