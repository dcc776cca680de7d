package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;

import java.io.InputStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Opens a dataset by the name given to {@code --data}: {@code mnist-10k} (embedded, the
 * default), {@code fashion-mnist}, {@code mnist}, {@code idx:DIR} or {@code csv:PATH}. The
 * result is a train/test split whose samples are normalised with the training split's statistics.
 */
public final class Datasets {

    /** The dataset used when none is named: it needs no download. */
    public static final String DEFAULT = "mnist-10k";

    /** The share of a CSV table held out for test unless {@code --test-fraction} says otherwise. */
    public static final double DEFAULT_TEST_FRACTION = 0.2;

    /** The environment variable naming a folder that holds {@code fashion-mnist/}, {@code mnist/}. */
    public static final String DATA_ENV = "WHITTLE_DATA";

    /** Where Debian's {@code dataset-fashion-mnist} package installs the files. */
    static final Path SYSTEM_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    private static final String ACCEPTED = "mnist-10k, fashion-mnist, mnist, idx:DIR, csv:PATH";
    private static final int MNIST_CLASSES = 10;
    private static final int MNIST_10K_TRAIN = 8_000;
    private static final int MNIST_10K_TOTAL = 10_000;

    private Datasets() {
    }

    /**
     * Opens dataset {@code name}.
     *
     * @param dataDir      the {@code --data-dir} folder, or null; searched first for
     *                     {@code fashion-mnist} and {@code mnist}, ignored by the other names
     * @param testFraction the share of each class held out for test; used only by {@code csv:}
     *                     (must be strictly between 0 and 1 there)
     * @param seed         seeds the {@code csv:} test split; the other datasets have fixed splits
     * @throws BadInputException with a one-line reason if the name is unknown, the files are
     *                           missing, or their content is malformed
     */
    public static DataSplit open(String name, Path dataDir, double testFraction, long seed) throws BadInputException {
        return open(name, dataDir, testFraction, seed, System.getenv(DATA_ENV), SYSTEM_FASHION_MNIST);
    }

    /**
     * As {@link #open(String, Path, double, long)} with the places outside the arguments given
     * explicitly, so that tests do not depend on the machine: {@code whittleData} stands for
     * {@code $WHITTLE_DATA} (null if unset) and {@code systemFashionMnist} for the Debian folder.
     */
    static DataSplit open(String name, Path dataDir, double testFraction, long seed, String whittleData,
                          Path systemFashionMnist) throws BadInputException {
        if (name == null || name.isBlank()) throw new BadInputException("no dataset named; accepted: " + ACCEPTED);
        if (name.startsWith("idx:")) {
            Path dir = pathAfterPrefix(name, "idx:", "a folder");
            Optional<IdxFolder> folder = IdxFolder.find(dir);
            if (folder.isEmpty()) {
                throw new BadInputException(name + ": " + dir + " is not a folder holding "
                        + IdxFolder.NAMES_FOR_MESSAGES);
            }
            return openIdx(name, folder.get(), 0);
        }
        if (name.startsWith("csv:")) {
            Path file = pathAfterPrefix(name, "csv:", "a file");
            if (!(testFraction > 0 && testFraction < 1)) {
                throw new BadInputException("test fraction " + testFraction + " must be strictly between 0 and 1");
            }
            return openCsv(name, file, testFraction, seed);
        }
        return switch (name) {
            case "mnist-10k" -> mnist10k();
            case "fashion-mnist" -> openIdx(name, locate(name,
                    searchRoots(dataDir, whittleData, "fashion-mnist", systemFashionMnist),
                    "install it with `apt-get install dataset-fashion-mnist`, or pass --data-dir DIR"), MNIST_CLASSES);
            case "mnist" -> openIdx(name, locate(name,
                    searchRoots(dataDir, whittleData, "mnist", null),
                    "put the IDX files " + IdxFolder.NAMES_FOR_MESSAGES + " in a folder and pass --data-dir DIR, or set " + DATA_ENV + " to a folder holding mnist/"),
                    MNIST_CLASSES);
            default -> throw new BadInputException("unknown dataset \"" + name + "\"; accepted: " + ACCEPTED);
        };
    }

    /**
     * The SHA-256 of each file dataset {@code name} is read from (the embedded resources for
     * {@code mnist-10k}), keyed by where it was found: what a reproducibility manifest records.
     */
    public static java.util.Map<String, String> sourceDigests(String name, Path dataDir) throws BadInputException {
        java.util.Map<String, String> d = new java.util.LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        if (name.equals("mnist-10k")) {
            for (String r : List.of("mnist-10k/images-idx3-ubyte.gz", "mnist-10k/labels-idx1-ubyte.gz")) {
                try (InputStream in = resource(r)) {
                    d.put(r + " (embedded)", Sha256.hex(in));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("the embedded " + r + " could not be read: " + e.getMessage(), e);
                }
            }
            return d;
        }
        if (name.startsWith("csv:")) {
            files.add(pathAfterPrefix(name, "csv:", "a file"));
        } else {
            IdxFolder f = switch (name) {
                case "fashion-mnist" -> locate(name, searchRoots(dataDir, System.getenv(DATA_ENV), "fashion-mnist", SYSTEM_FASHION_MNIST), "");
                case "mnist" -> locate(name, searchRoots(dataDir, System.getenv(DATA_ENV), "mnist", null), "");
                default -> IdxFolder.find(pathAfterPrefix(name, "idx:", "a folder"))
                        .orElseThrow(() -> new BadInputException(name + ": no IDX files there"));
            };
            files.addAll(List.of(f.trainImages(), f.trainLabels(), f.testImages(), f.testLabels()));
        }
        for (Path p : files) {
            try (InputStream in = java.nio.file.Files.newInputStream(p)) {
                d.put(p.toString(), Sha256.hex(in));
            } catch (java.io.IOException e) {
                throw new BadInputException(p + ": cannot be read: " + e.getMessage(), e);
            }
        }
        return d;
    }

    /**
     * The normalisation of an image split returned by {@link #open}, as {@code {mean, std}} of
     * pixels scaled to [0, 1] (a pixel byte {@code v} becomes {@code (v / 255 - mean) / std}), so
     * that normalised or synthetic images can be turned back into bytes; empty for a table or a
     * dataset not opened here.
     */
    public static Optional<double[]> pixelMeanStd(dev.whittle.engine.Dataset split) {
        if (split instanceof ImageDataset images) return Optional.of(new double[] {images.stats().mean(), images.stats().std()});
        return Optional.empty();
    }

    /**
     * How the samples of a split returned by {@link #open} were normalised, in the form a model
     * file records ({@link dev.whittle.engine.io.InputNormalization}): pixel bytes over 255 less
     * the training mean, over its standard deviation; a table's columns standardised by the
     * training rows' statistics. Empty for a dataset not opened here.
     */
    public static Optional<dev.whittle.engine.io.InputNormalization> inputNormalization(dev.whittle.engine.Dataset split) {
        if (split instanceof ImageDataset images) {
            return Optional.of(new dev.whittle.engine.io.InputNormalization(255, new double[] {images.stats().mean()},
                    new double[] {images.stats().std()}));
        }
        if (split instanceof TableDataset table) return table.normalization();
        return Optional.empty();
    }

    /** A few lines describing the accepted names, for the command line's help. */
    public static String describe() {
        return String.join(System.lineSeparator(),
                "mnist-10k      10,000 real MNIST digits embedded in whittle: train = first 8,000, test = last 2,000 (default)",
                "fashion-mnist  Fashion-MNIST, 60,000 train / 10,000 test, from --data-dir, $" + DATA_ENV
                        + "/fashion-mnist or " + SYSTEM_FASHION_MNIST + " (apt-get install dataset-fashion-mnist)",
                "mnist          MNIST IDX files from --data-dir or $" + DATA_ENV + "/mnist",
                "idx:DIR        IDX files in DIR: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and t10k-* for test",
                "csv:PATH       a numeric table, last column the integer label 0..C-1, optional header line;"
                        + " test = a seeded, stratified " + Math.round(DEFAULT_TEST_FRACTION * 100) + "% of each class (--test-fraction)");
    }

    /** Where a named IDX dataset may be: --data-dir, then $WHITTLE_DATA/sub, then a system folder. */
    static List<Path> searchRoots(Path dataDir, String whittleData, String subfolder, Path systemFolder) {
        Set<Path> roots = new LinkedHashSet<>();
        if (dataDir != null) roots.add(dataDir);
        if (whittleData != null && !whittleData.isBlank()) {
            try {
                roots.add(Path.of(whittleData, subfolder));
            } catch (InvalidPathException e) {
                // An unusable $WHITTLE_DATA is simply a place with nothing in it; the
                // not-found message still shows it.
            }
        }
        if (systemFolder != null) roots.add(systemFolder);
        return List.copyOf(roots);
    }

    /** The first root holding the four files, or a one-line error naming every place looked. */
    static IdxFolder locate(String name, List<Path> roots, String howToGet) throws BadInputException {
        List<String> looked = new ArrayList<>();
        for (Path root : roots) {
            Optional<IdxFolder> folder = IdxFolder.find(root);
            if (folder.isPresent()) return folder.get();
            looked.add(root.toString());
        }
        String where = looked.isEmpty() ? "no --data-dir given and $" + DATA_ENV + " is not set"
                : "looked in " + String.join(", ", looked) + " for " + IdxFolder.NAMES_FOR_MESSAGES;
        throw new BadInputException(name + " not found: " + where + "; " + howToGet);
    }

    private static Path pathAfterPrefix(String name, String prefix, String what) throws BadInputException {
        String rest = name.substring(prefix.length());
        if (rest.isBlank()) throw new BadInputException(name + ": needs " + what + " after \"" + prefix + "\"");
        try {
            return Path.of(rest);
        } catch (InvalidPathException e) {
            throw new BadInputException(name + ": \"" + rest + "\" is not a usable path (" + e.getReason() + ")");
        }
    }

    /**
     * Opens an IDX folder. {@code fixedClasses} is the class count of a known dataset (labels
     * beyond it are errors), or 0 to take it from the labels: max + 1, at least 2.
     */
    static DataSplit openIdx(String name, IdxFolder folder, int fixedClasses) throws BadInputException {
        IdxReader.Images trainImages = IdxReader.readImages(folder.trainImages());
        IdxReader.Labels trainLabels = IdxReader.readLabels(folder.trainLabels());
        requireSameCount(trainImages, trainLabels);
        IdxReader.Images testImages = IdxReader.readImages(folder.testImages());
        IdxReader.Labels testLabels = IdxReader.readLabels(folder.testLabels());
        requireSameCount(testImages, testLabels);
        if (testImages.rows() != trainImages.rows() || testImages.cols() != trainImages.cols()) {
            throw new BadInputException(testImages.source() + ": images are " + testImages.rows() + "x" + testImages.cols()
                    + " but the training images in " + trainImages.source() + " are "
                    + trainImages.rows() + "x" + trainImages.cols());
        }
        int classes = fixedClasses;
        if (classes > 0) {
            requireLabelsBelow(trainLabels, classes, name);
            requireLabelsBelow(testLabels, classes, name);
        } else {
            classes = Math.max(2, Math.max(maxLabel(trainLabels), maxLabel(testLabels)) + 1);
        }
        PixelStats stats = PixelStats.of(trainImages.pixels(), 0, trainImages.pixels().length);
        return new DataSplit(
                new ImageDataset(name + "/train", trainImages, trainLabels.values(), 0, trainImages.count(), classes, stats),
                new ImageDataset(name + "/test", testImages, testLabels.values(), 0, testImages.count(), classes, stats));
    }

    private static DataSplit mnist10k() throws BadInputException {
        IdxReader.Images images = IdxReader.readImages(resource("mnist-10k/images-idx3-ubyte.gz"),
                "mnist-10k/images-idx3-ubyte.gz (embedded)");
        IdxReader.Labels labels = IdxReader.readLabels(resource("mnist-10k/labels-idx1-ubyte.gz"),
                "mnist-10k/labels-idx1-ubyte.gz (embedded)");
        requireSameCount(images, labels);
        if (images.count() != MNIST_10K_TOTAL) {
            throw new IllegalStateException("the embedded mnist-10k holds " + images.count() + " images, not "
                    + MNIST_10K_TOTAL + ": the jar was built wrongly");
        }
        requireLabelsBelow(labels, MNIST_CLASSES, "mnist-10k");
        int perImage = images.pixelsPerImage();
        PixelStats stats = PixelStats.of(images.pixels(), 0, MNIST_10K_TRAIN * perImage);
        // Both splits view the one pixel array: no copy of 7.8 MB for a split that is just a range.
        return new DataSplit(
                new ImageDataset("mnist-10k/train", images, labels.values(), 0, MNIST_10K_TRAIN, MNIST_CLASSES, stats),
                new ImageDataset("mnist-10k/test", images, labels.values(), MNIST_10K_TRAIN,
                        MNIST_10K_TOTAL - MNIST_10K_TRAIN, MNIST_CLASSES, stats));
    }

    private static InputStream resource(String name) {
        InputStream in = Datasets.class.getResourceAsStream(name);
        if (in == null) throw new IllegalStateException("resource " + name + " is missing from the whittle-datasets jar");
        return in;
    }

    private static DataSplit openCsv(String name, Path file, double testFraction, long seed) throws BadInputException {
        CsvTable table = CsvTable.read(file);
        StratifiedSplit split = StratifiedSplit.of(table.labels(), table.numClasses(), testFraction, seed);
        if (split.test().length == 0) {
            throw new BadInputException(file + ": " + table.rows() + " rows leave no test rows at test fraction "
                    + testFraction + "; add rows or raise --test-fraction");
        }
        return TableDataset.standardised(name, table, split);
    }

    private static void requireSameCount(IdxReader.Images images, IdxReader.Labels labels) throws BadInputException {
        if (images.count() != labels.count()) {
            throw new BadInputException(images.source() + " holds " + images.count() + " images but "
                    + labels.source() + " holds " + labels.count() + " labels");
        }
    }

    private static void requireLabelsBelow(IdxReader.Labels labels, int classes, String dataset) throws BadInputException {
        byte[] v = labels.values();
        for (int i = 0; i < v.length; i++) {
            int label = v[i] & 0xff;
            if (label >= classes) {
                throw new BadInputException(labels.source() + ": the label at index " + i + " is " + label + ", outside 0.."
                        + (classes - 1) + " for " + dataset);
            }
        }
    }

    private static int maxLabel(IdxReader.Labels labels) {
        int max = 0;
        for (byte b : labels.values()) max = Math.max(max, b & 0xff);
        return max;
    }
}
