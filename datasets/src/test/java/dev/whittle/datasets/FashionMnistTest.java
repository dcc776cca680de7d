package dev.whittle.datasets;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Loads the real Fashion-MNIST where it is installed. Skipped when it is absent, unless
 * {@code WHITTLE_REQUIRE_DATA=1} says the machine is meant to have it, which turns absence into a failure.
 */
class FashionMnistTest {

    @Test
    void realFilesLoadWithBalancedClasses() throws Exception {
        List<Path> roots = Datasets.searchRoots(null, System.getenv(Datasets.DATA_ENV), "fashion-mnist",
                Datasets.SYSTEM_FASHION_MNIST);
        Optional<IdxFolder> found = Optional.empty();
        for (Path root : roots) {
            found = IdxFolder.find(root);
            if (found.isPresent()) break;
        }
        if (found.isEmpty()) {
            if ("1".equals(System.getenv("WHITTLE_REQUIRE_DATA"))) {
                fail("WHITTLE_REQUIRE_DATA=1 but Fashion-MNIST is in none of " + roots);
            }
            assumeTrue(false, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        }

        DataSplit split = Datasets.open("fashion-mnist", null, Datasets.DEFAULT_TEST_FRACTION, 0);
        assertEquals(60_000, split.train().size());
        assertEquals(10_000, split.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, split.train().sampleShape());
        assertEquals(10, split.train().numClasses());
        // Fashion-MNIST is balanced by construction (Xiao et al., 2017): 6,000 and 1,000 per class.
        int[] train = new int[10];
        int[] test = new int[10];
        for (int i = 0; i < split.train().size(); i++) train[split.train().label(i)]++;
        for (int i = 0; i < split.test().size(); i++) test[split.test().label(i)]++;
        for (int c = 0; c < 10; c++) {
            assertEquals(6_000, train[c], "train class " + c);
            assertEquals(1_000, test[c], "test class " + c);
        }
        // The widely quoted Fashion-MNIST training-set pixel statistics: mean 0.2860, std 0.3530.
        PixelStats stats = ((ImageDataset) split.train()).stats();
        assertEquals(0.2860, stats.mean(), 5e-4);
        assertEquals(0.3530, stats.std(), 5e-4);
    }
}
