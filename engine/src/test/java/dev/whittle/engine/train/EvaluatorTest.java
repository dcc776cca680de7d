package dev.whittle.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import org.junit.jupiter.api.Test;

class EvaluatorTest {

    /** The samples are the logits themselves: a {@code flatten} of a flat input is the identity. */
    private static final float[][] LOGITS = {
        {2, 1, 0},   // true 0, predicted 0
        {0, 3, 1},   // true 1, predicted 1
        {0, 3, 1},   // true 2, predicted 1
        {1, 1, 0},   // true 1, a tie between 0 and 1: the first, 0, is predicted
        {0, 0, 5},   // true 2, predicted 2
    };
    private static final int[] LABELS = {0, 1, 2, 1, 2};

    private static double crossEntropy(float[] z, int label) {
        double max = Math.max(z[0], Math.max(z[1], z[2]));
        double sum = 0;
        for (float v : z) sum += Math.exp(v - max);
        return -(z[label] - max - Math.log(sum));
    }

    @Test
    void handMadeCaseGivesAccuracyLossAndConfusion() throws BadInputException {
        ArrayDataset data = new ArrayDataset("hand", new int[] {3}, 3, LOGITS, LABELS);
        Sequential identity = ArchSpec.build("flatten", new int[] {3}, 0);
        double wantLoss = 0;
        for (int i = 0; i < LABELS.length; i++) wantLoss += crossEntropy(LOGITS[i], LABELS[i]);
        wantLoss /= LABELS.length;
        int[][] wantConfusion = {
            {1, 0, 0},
            {1, 1, 0},
            {0, 1, 1},
        };
        // whole batches, a partial last batch, and a batch larger than the set agree
        for (int batch : new int[] {1, 2, 5, 64}) {
            Evaluation e = Evaluator.evaluate(identity, data, batch);
            assertEquals(5, e.count());
            assertEquals(0.6, e.accuracy(), 0.0, "batch " + batch);
            assertEquals(wantLoss, e.meanLoss(), 1e-6, "batch " + batch);
            assertArrayEquals(wantConfusion, e.confusion(), "batch " + batch);
            int total = 0, diagonal = 0;
            for (int t = 0; t < 3; t++) {
                for (int p = 0; p < 3; p++) total += e.confusion()[t][p];
                diagonal += e.confusion()[t][t];
            }
            assertEquals(e.count(), total);
            assertEquals(e.accuracy(), (double) diagonal / total, 0.0);
        }
    }

    @Test
    void confusionCoversOutputsTheDatasetNeverLabels() throws BadInputException {
        // a two-class dataset under a three-output model: a prediction of class 2 must still be counted
        ArrayDataset data = new ArrayDataset("hand", new int[] {3}, 2,
                new float[][] {{1, 0, 0}, {0, 0, 1}, {0, 2, 1}}, new int[] {0, 1, 1});
        Evaluation e = Evaluator.evaluate(ArchSpec.build("flatten", new int[] {3}, 0), data, 8);
        assertArrayEquals(new int[][] {{1, 0, 0}, {0, 1, 1}, {0, 0, 0}}, e.confusion());
        assertEquals(2.0 / 3, e.accuracy(), 0.0);
    }

    @Test
    void emptyDatasetGivesZeroCount() throws BadInputException {
        ArrayDataset empty = new ArrayDataset("empty", new int[] {3}, 3, new float[0][], new int[0]);
        Evaluation e = Evaluator.evaluate(ArchSpec.build("flatten", new int[] {3}, 0), empty, 8);
        assertEquals(0, e.count());
        assertEquals(3, e.confusion().length);
    }

    @Test
    void batchSizeBelowOneIsRejectedRatherThanLoopingForever() throws BadInputException {
        ArrayDataset data = new ArrayDataset("hand", new int[] {3}, 3, LOGITS, LABELS);
        Sequential identity = ArchSpec.build("flatten", new int[] {3}, 0);
        assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(identity, data, 0));
        assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(identity, data, -4));
    }

    @Test
    void argmaxTakesTheFirstOfEqualMaxima() {
        float[] z = {9, 1, 7, 7, 2, 9};
        assertEquals(1, Evaluator.argmax(z, 1, 4));       // {1, 7, 7, 2}: first 7 at local index 1
        assertEquals(0, Evaluator.argmax(z, 0, 6));       // 9 first at 0 and again at 5
        assertEquals(0, Evaluator.argmax(z, 4, 1));
    }

    @Test
    void batchGathersSamplesInTheGivenOrder() {
        float[][] x = {{0, 0.5f}, {1, 1.5f}, {2, 2.5f}, {3, 3.5f}, {4, 4.5f}};
        ArrayDataset data = new ArrayDataset("d", new int[] {1, 2}, 5, x, new int[] {0, 1, 2, 3, 4});
        Batch batch = new Batch(data, 3);
        int[] order = {4, 0, 3, 1, 2};

        Tensor full = batch.fill(data, order, 0, 3);
        assertArrayEquals(new int[] {3, 1, 2}, full.shape());
        assertArrayEquals(new float[] {4, 4.5f, 0, 0.5f, 3, 3.5f}, full.data());
        assertArrayEquals(new int[] {4, 0, 3}, java.util.Arrays.copyOf(batch.labels(), 3));

        Tensor part = batch.fill(data, order, 3, 2);
        assertArrayEquals(new int[] {2, 1, 2}, part.shape());
        assertArrayEquals(new float[] {1, 1.5f, 2, 2.5f}, part.data());
        assertArrayEquals(new int[] {1, 2}, java.util.Arrays.copyOf(batch.labels(), 2));

        // a full batch reuses one buffer; a partial one is its own array of the right size
        assertSame(full.data(), batch.fill(data, order, 0, 3).data());
        assertNotSame(full.data(), part.data());
    }
}
