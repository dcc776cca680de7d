package dev.whittle.compress.coreset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import org.junit.jupiter.api.Test;

/** Distribution matching lowers the loss it minimises, measured on random nets it never trained on. */
class DistributionMatchingTest {

    @Test
    void matchingReducesTheLossAndIsDeterministic() throws BadInputException {
        Dataset real = Datasets.open("mnist-10k", null, 0.2, 0).train().first(600);
        ClassIndex classes = ClassIndex.of(real);
        DistributionMatching.Config config = new DistributionMatching.Config(8, 40, 32, 15f, 0.5f, 3);
        DistributionMatching.Result start = DistributionMatching.run(real, classes, Budget.perClass(2), config.withIterations(0), (i, l) -> {});
        DistributionMatching.Result done = DistributionMatching.run(real, classes, Budget.perClass(2), config, (i, l) -> {});
        assertEquals(20, done.images().size());
        for (int i = 0; i < 20; i++) assertEquals(i / 2, done.images().label(i));
        double before = DistributionMatching.matchingLoss(real, classes, start.images(), 8, 4, 1_000);
        double after = DistributionMatching.matchingLoss(real, classes, done.images(), 8, 4, 1_000);
        assertTrue(after < 0.5 * before, "held-out matching loss " + before + " -> " + after);
        DistributionMatching.Result again = DistributionMatching.run(real, classes, Budget.perClass(2), config, (i, l) -> {});
        assertArrayEquals(done.images().data(), again.images().data(), 0f);
    }
}
