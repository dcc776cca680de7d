package dev.whittle.cli;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which dataset to use: {@code --data}, {@code --data-dir}, {@code --test-fraction}. */
final class DataOptions {

    @Option(names = "--data", paramLabel = "NAME", defaultValue = Datasets.DEFAULT,
            description = "mnist-10k (embedded, default), fashion-mnist, mnist, idx:DIR or csv:PATH.")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where to look first for fashion-mnist or mnist IDX files.")
    Path dir;

    @Option(names = "--test-fraction", paramLabel = "F",
            description = "For csv: data, the seeded stratified fraction held out as the test split (default: 0.2).")
    Double testFraction;

    DataSplit open(long seed) throws BadInputException {
        if (testFraction != null && !name.startsWith("csv:")) {
            System.err.println("whittle: note: --test-fraction applies only to csv: data; " + name + " has a fixed test split");
        }
        return Datasets.open(name, dir, testFraction == null ? Datasets.DEFAULT_TEST_FRACTION : testFraction, seed);
    }
}
