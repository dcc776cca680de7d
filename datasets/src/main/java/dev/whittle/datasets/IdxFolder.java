package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The four IDX files of a dataset folder in the names MNIST is distributed with, each either
 * plain or with {@code .gz} appended.
 */
record IdxFolder(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {

    static final List<String> FILE_NAMES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    /** The four names in brace notation, for messages. */
    static final String NAMES_FOR_MESSAGES = "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]";

    /**
     * The four files in {@code dir}; empty if it holds none of them (or is not a folder). A
     * folder holding some but not all is an error rather than a reason to look elsewhere: it is
     * almost surely the folder meant, with a download that did not finish.
     */
    static Optional<IdxFolder> find(Path dir) throws BadInputException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        Path[] found = new Path[FILE_NAMES.size()];
        List<String> missing = new ArrayList<>();
        List<String> present = new ArrayList<>();
        for (int i = 0; i < found.length; i++) {
            found[i] = existing(dir, FILE_NAMES.get(i));
            if (found[i] == null) missing.add(FILE_NAMES.get(i) + "[.gz]");
            else present.add(found[i].getFileName().toString());
        }
        if (present.isEmpty()) return Optional.empty();
        if (!missing.isEmpty()) {
            throw new BadInputException(dir + ": holds " + String.join(", ", present) + " but not "
                    + String.join(", ", missing));
        }
        return Optional.of(new IdxFolder(found[0], found[1], found[2], found[3]));
    }

    /** The plain file if it exists, else the gzip one, else null. */
    private static Path existing(Path dir, String name) {
        for (Path candidate : new Path[] {dir.resolve(name), dir.resolve(name + ".gz")}) {
            if (Files.isRegularFile(candidate)) return candidate;
        }
        return null;
    }
}
