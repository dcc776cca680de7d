package dev.whittle.compress.coreset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Class balance, determinism and the defining property of each selector. */
class SelectorsTest {

    static Dataset digits; // 2,000 real digits, normalised
    static ClassIndex digitClasses;

    @BeforeAll
    static void load() throws BadInputException {
        digits = Datasets.open("mnist-10k", null, 0.2, 0).train().first(2000);
        digitClasses = ClassIndex.of(digits);
    }

    /** Three well-separated Gaussian blobs per class in 6 dimensions, classes of unequal size. */
    static ArrayDataset blobs(long seed) {
        Rng rng = new Rng(seed);
        int[] sizes = {40, 55, 70};
        int n = 165, d = 6;
        float[] x = new float[n * d];
        int[] y = new int[n];
        int row = 0;
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < sizes[c]; i++, row++) {
                y[row] = c;
                int blob = i % 3;
                for (int j = 0; j < d; j++) x[row * d + j] = 4 * c + 2 * blob * (j == blob ? 1 : 0) + 0.3f * rng.normal();
            }
        }
        return new ArrayDataset("blobs", x, y, new int[] {d}, 3);
    }

    static void assertBalanced(int[] chosen, Dataset data, Budget budget) {
        ClassIndex classes = ClassIndex.of(data);
        int[] got = new int[data.numClasses()];
        Set<Integer> seen = new HashSet<>();
        int previousClass = 0;
        for (int i : chosen) {
            assertTrue(seen.add(i), "index " + i + " chosen twice");
            got[data.label(i)]++;
            assertTrue(data.label(i) >= previousClass, "indices must come grouped by class");
            previousClass = data.label(i);
        }
        for (int c = 0; c < got.length; c++) assertEquals(budget.countFor(classes.size(c)), got[c], "class " + c);
    }

    @Test
    void budgetsCountPerClassOrByFraction() {
        assertEquals(5, Budget.perClass(5).countFor(40));
        assertEquals(3, Budget.perClass(5).countFor(3));
        assertEquals(4, Budget.fraction(0.1).countFor(40));
        assertEquals(1, Budget.fraction(0.001).countFor(40));
        assertThrows(IllegalArgumentException.class, () -> new Budget(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(2, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Budget.fraction(1.5));
    }

    @Test
    void everySelectorIsBalancedAndDeterministic() {
        ArrayDataset data = blobs(1);
        ClassIndex classes = ClassIndex.of(data);
        Embedding pixels = Embedding.pixels(data.sampleShape());
        double[] scores = new double[data.size()];
        Rng rng = new Rng(3);
        for (int i = 0; i < scores.length; i++) scores[i] = rng.nextInt(4); // many ties
        for (Budget b : new Budget[] {Budget.perClass(7), Budget.fraction(0.2), Budget.perClass(100)}) {
            int[][] twice = new int[2][];
            for (int t = 0; t < 2; t++) twice[t] = RandomSelection.select(classes, b, 11);
            assertArrayEquals(twice[0], twice[1]);
            assertBalanced(twice[0], data, b);
            assertArrayEquals(Herding.select(data, classes, pixels, b), Herding.select(data, classes, pixels, b));
            assertBalanced(Herding.select(data, classes, pixels, b), data, b);
            assertArrayEquals(KCenterGreedy.select(data, classes, pixels, b, 5), KCenterGreedy.select(data, classes, pixels, b, 5));
            assertBalanced(KCenterGreedy.select(data, classes, pixels, b, 5), data, b);
            assertArrayEquals(ScoreSelection.highest(scores, classes, b, 2), ScoreSelection.highest(scores, classes, b, 2));
            assertBalanced(ScoreSelection.highest(scores, classes, b, 2), data, b);
        }
        assertFalse(java.util.Arrays.equals(RandomSelection.select(classes, Budget.perClass(7), 11),
                RandomSelection.select(classes, Budget.perClass(7), 12)), "another seed draws another subset");
    }

    @Test
    void scoreSelectionKeepsTheHighestScores() {
        ArrayDataset data = blobs(2);
        ClassIndex classes = ClassIndex.of(data);
        double[] scores = new double[data.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = i % 10 == 0 ? Double.POSITIVE_INFINITY : i % 7;
        int[] chosen = ScoreSelection.highest(scores, classes, Budget.perClass(6), 0);
        for (int c = 0; c < 3; c++) {
            double lowestKept = Double.POSITIVE_INFINITY, highestLeft = Double.NEGATIVE_INFINITY;
            Set<Integer> kept = new HashSet<>();
            for (int i : chosen) if (data.label(i) == c) {
                kept.add(i);
                lowestKept = Math.min(lowestKept, scores[i]);
            }
            for (int i : classes.members(c)) if (!kept.contains(i)) highestLeft = Math.max(highestLeft, scores[i]);
            assertTrue(lowestKept >= highestLeft, "class " + c + ": kept " + lowestKept + " but left " + highestLeft);
        }
    }

    /** |mean of the chosen - class mean| averaged over the classes, in pixel space. */
    static double meanError(int[] chosen) {
        Embedding px = Embedding.pixels(digits.sampleShape());
        double total = 0;
        for (int cls = 0; cls < 10; cls++) {
            int c = cls;
            int[] m = digitClasses.members(c);
            float[] all = px.embed(digits, m);
            int[] picked = java.util.Arrays.stream(chosen).filter(i -> digits.label(i) == c).toArray();
            float[] sel = px.embed(digits, picked);
            double err = 0;
            for (int j = 0; j < px.dim(); j++) {
                double a = 0, s = 0;
                for (int i = 0; i < m.length; i++) a += all[i * px.dim() + j];
                for (int i = 0; i < picked.length; i++) s += sel[i * px.dim() + j];
                double diff = a / m.length - s / picked.length;
                err += diff * diff;
            }
            total += Math.sqrt(err);
        }
        return total / 10;
    }

    @Test
    void herdingTracksTheClassMeanBetterThanRandom() {
        Budget b = Budget.perClass(10);
        double herding = meanError(Herding.select(digits, digitClasses, Embedding.pixels(digits.sampleShape()), b));
        double random = 0;
        for (int s = 0; s < 5; s++) random += meanError(RandomSelection.select(digitClasses, b, s)) / 5;
        // measured on these 2,000 digits: herding about 0.8, random about 5.4 (norm of a 784-pixel mean difference)
        assertTrue(herding < 0.5 * random, "herding " + herding + " vs random " + random);
    }

    @Test
    void kCenterCoversAClassNoWorseThanRandom() {
        Embedding px = Embedding.pixels(digits.sampleShape());
        for (int c : new int[] {0, 1, 7}) {
            int[] m = digitClasses.members(c);
            float[] x = px.embed(digits, m);
            int k = 10;
            double greedy = KCenterGreedy.coveringRadius(x, m.length, px.dim(), KCenterGreedy.centers(x, m.length, px.dim(), k, 0));
            for (int s = 0; s < 5; s++) {
                int[] order = new int[m.length];
                for (int i = 0; i < order.length; i++) order[i] = i;
                new Rng(s).shuffle(order);
                double random = KCenterGreedy.coveringRadius(x, m.length, px.dim(), java.util.Arrays.copyOf(order, k));
                assertTrue(greedy <= random, "class " + c + ": k-center radius " + greedy + " vs random " + random);
            }
        }
    }

    @Test
    void kCenterPicksTheFarthestPointEachTime() {
        float[] line = {0, 1, 2, 10, 11};
        assertArrayEquals(new int[] {0, 4, 2}, KCenterGreedy.centers(line, 5, 1, 3, 0));
    }

    @Test
    void forgettingEventsAreCountedOnAHandMadeSequence() {
        ForgettingCounter f = new ForgettingCounter(4);
        boolean[][] seen = {
            {true, false, true, true, false, true},     // learned, forgotten twice
            {false, false, false, false, false, false}, // never learned
            {true, true, true, true, true, true},       // never forgotten
            {false, true, true, false, false, true},    // forgotten once (a run of wrongs counts once)
        };
        for (int t = 0; t < 6; t++) for (int i = 0; i < 4; i++) f.record(i, seen[i][t]);
        assertEquals(2, f.forgettingEvents(0));
        assertEquals(0, f.forgettingEvents(1));
        assertFalse(f.learned(1));
        assertEquals(Double.POSITIVE_INFINITY, f.score(1));
        assertEquals(0, f.score(2));
        assertEquals(1, f.score(3));
    }

    @Test
    void forgettingAndEl2nScoresAreDeterministicAndSelectBalanced() throws BadInputException {
        Dataset small = digits.first(400);
        ClassIndex classes = ClassIndex.of(small);
        double[][] f = new double[2][], e = new double[2][];
        for (int t = 0; t < 2; t++) {
            Sequential m = ArchSpec.build("mlp(784,32,10)", small.sampleShape(), 7);
            f[t] = ForgettingScores.compute(m, small, 3, 1e-3f, 7);
            e[t] = El2nScores.compute("mlp(784,32,10)", small, 1, 2, 1e-3f, 7);
        }
        assertArrayEquals(f[0], f[1]);
        assertArrayEquals(e[0], e[1]);
        for (double s : e[0]) assertTrue(s >= 0 && s <= Math.sqrt(2), "an error norm lies in [0, sqrt 2]: " + s);
        assertNotEquals(0, java.util.Arrays.stream(f[0]).filter(s -> s > 0).count(), "three epochs forget something");
        assertBalanced(ScoreSelection.highest(f[0], classes, Budget.perClass(3), 0), small, Budget.perClass(3));
        assertBalanced(ScoreSelection.highest(e[0], classes, Budget.perClass(3), 0), small, Budget.perClass(3));
    }

    @Test
    void el2nOfKnownLogits() {
        assertEquals(Math.sqrt(0.5), El2nScores.errorNorm(new float[] {3, 3}, 0, 2, 0), 1e-12);
        assertEquals(0, El2nScores.errorNorm(new float[] {0, 100, 0}, 0, 3, 1), 1e-12);
        assertEquals(Math.sqrt(2), El2nScores.errorNorm(new float[] {0, 100, 0}, 0, 3, 0), 1e-12);
    }

    @Test
    void penultimateEmbeddingIsTheInputOfTheLastLinear() throws BadInputException {
        Sequential m = ArchSpec.build("convnet3(4)", digits.sampleShape(), 0);
        Embedding e = Embedding.penultimate(m);
        assertEquals(4 * 3 * 3, e.dim());
        assertFalse(e.isPixelSpace());
        Sequential linear = ArchSpec.build("flatten linear(10)", digits.sampleShape(), 0);
        assertTrue(Embedding.penultimate(linear).dim() == 784);
    }
}
