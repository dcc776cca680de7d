package dev.whittle.cli;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.InputNormalization;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Which dataset to use: {@code --data}, {@code --data-dir}, {@code --test-fraction}. */
final class DataOptions {

    /** The metadata key under which a model file records the data it was trained on. */
    static final String MODEL_DATASET_KEY = "whittle.dataset";
    /**
     * The metadata about a model's data (which dataset, how its inputs were normalised) that a
     * model derived from it (pruned, quantized, compressed) keeps: it expects the same inputs.
     */
    static final List<String> DATA_KEYS = List.of(MODEL_DATASET_KEY, InputNormalization.KEY);

    @Option(names = "--data", paramLabel = "NAME",
            description = "mnist-10k (embedded), fashion-mnist, mnist, idx:DIR or csv:PATH (default: the data a model file"
                    + " records it was trained on, else mnist-10k).")
    String name;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where to look first for fashion-mnist or mnist IDX files.")
    Path dir;

    @Option(names = "--test-fraction", paramLabel = "F",
            description = "For csv: data, the seeded stratified fraction held out as the test split (default: 0.2).")
    Double testFraction;

    /**
     * Without {@code --data}, the data the model was trained on as its file records
     * ({@value #MODEL_DATASET_KEY}), said on stderr, else the embedded default: evaluating a
     * Fashion-MNIST model on digits without a word gave 14% accuracy and calibrated or fine-tuned
     * it on the wrong images.
     */
    void defaultTo(Map<String, String> modelMetadata, Path modelFile) {
        if (name != null) return;
        String recorded = modelMetadata.get(MODEL_DATASET_KEY);
        if (recorded == null || recorded.isBlank()) {
            name = Datasets.DEFAULT;
            return;
        }
        name = recorded;
        if (!recorded.equals(Datasets.DEFAULT)) {
            // said when the data is opened, so an option refused before that stays a one-line error
            note = "whittle: note: no --data given; using " + recorded + ", the data " + modelFile.getFileName() + " was trained on";
        }
    }

    /** What {@link #defaultTo} chose, said by {@link #open}. */
    private String note;

    DataSplit open(long seed) throws BadInputException {
        if (name == null) name = Datasets.DEFAULT;
        if (note != null) {
            System.err.println(note);
            note = null;
        }
        if (testFraction != null && !name.startsWith("csv:")) {
            System.err.println("whittle: note: --test-fraction applies only to csv: data; " + name + " has a fixed test split");
        }
        return Datasets.open(name, dir, testFraction == null ? Datasets.DEFAULT_TEST_FRACTION : testFraction, seed);
    }
}
