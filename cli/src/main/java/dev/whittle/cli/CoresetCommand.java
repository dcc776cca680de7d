package dev.whittle.cli;

import dev.whittle.compress.coreset.ArrayDataset;
import dev.whittle.compress.coreset.Budget;
import dev.whittle.compress.coreset.ClassIndex;
import dev.whittle.compress.coreset.DistributionMatching;
import dev.whittle.compress.coreset.El2nScores;
import dev.whittle.compress.coreset.Embedding;
import dev.whittle.compress.coreset.ForgettingScores;
import dev.whittle.compress.coreset.Herding;
import dev.whittle.compress.coreset.KCenterGreedy;
import dev.whittle.compress.coreset.PixelScale;
import dev.whittle.compress.coreset.PngGrid;
import dev.whittle.compress.coreset.RandomSelection;
import dev.whittle.compress.coreset.ScoreSelection;
import dev.whittle.compress.coreset.StepTraining;
import dev.whittle.compress.coreset.Subset;
import dev.whittle.compress.coreset.SubsetEvaluation;
import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.datasets.IdxWriter;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code whittle coreset}: a few images per class, chosen from the training split or synthesised,
 * written as an IDX dataset ({@code --data idx:DIR} reads it back) and judged by training fresh
 * models on it, next to a random subset of the same budget and the full training split.
 */
@Command(name = "coreset", mixinStandardHelpOptions = true,
        description = {"Dataset distillation: choose or synthesise a few training images per class.",
                "Random, herding, kcenter, forgetting, el2n or distribution matching (dm); writes them as IDX files with grid.png and reports the test accuracy of models trained on them (mean ± std over --eval-runs seeds) next to a random subset of the same budget and the full training split."})
final class CoresetCommand implements Callable<Integer> {

    /** The images per class shown in grid.png; a larger budget shows its first ones. */
    static final int GRID_COLUMNS = 20;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--method", paramLabel = "METHOD", required = true,
            description = "random, herding, kcenter, forgetting, el2n or dm (distribution matching).")
    String method;

    @Option(names = "--per-class", paramLabel = "N", description = "Images per class.")
    Integer perClass;

    @Option(names = "--fraction", paramLabel = "F", description = "The share of each class to keep (rounded, at least one).")
    Double fraction;

    @Option(names = "--space", paramLabel = "SPACE", description = "herding and kcenter: embedding (default; the input of the model's last linear layer) or pixel.")
    String space;

    @Option(names = "--embed-model", paramLabel = "FILE", description = "The trained model whose embedding herding and kcenter use (default: a quick --eval-arch model trained for --score-epochs).")
    Path embedModel;

    @Option(names = "--eval-arch", paramLabel = "SPEC", defaultValue = "convnet3", description = "Architecture trained on the subset, the random subset and the full data (default: ${DEFAULT-VALUE}).")
    String evalArch;

    @Option(names = "--eval-runs", paramLabel = "K", defaultValue = "5", description = "Models trained on each subset, seeds 0..K-1 (default: ${DEFAULT-VALUE}).")
    int evalRuns;

    @Option(names = "--eval-steps", paramLabel = "S", defaultValue = "500", description = "Adam steps per model, at batch min(256, subset size) (default: ${DEFAULT-VALUE}).")
    long evalSteps;

    @Option(names = "--eval-lr", paramLabel = "LR", defaultValue = "1e-3", description = "Adam learning rate of the evaluation runs (default: ${DEFAULT-VALUE}).")
    float evalLr;

    @Option(names = "--no-compare-random", description = "Skip the random subsets of the same budget (the report's random_* fields are then null):"
            + " a table of several methods needs the random baseline once per budget, not once per method.")
    boolean noCompareRandom;

    @Option(names = "--full-epochs", paramLabel = "E", defaultValue = "3", description = "Epochs of the one full-data model (0 skips it) (default: ${DEFAULT-VALUE}).")
    int fullEpochs;

    @Option(names = "--score-epochs", paramLabel = "E", description = "Epochs of the scoring model: forgetting (default 3), el2n (default 1), the quick embedding model (default 1).")
    Integer scoreEpochs;

    @Option(names = "--scores", paramLabel = "FILE", description = "forgetting and el2n: the scores.txt of an earlier run on the same data and --seed,"
            + " instead of training the scoring models again (the scores do not depend on the budget).")
    Path scoresFile;

    @Option(names = "--score-seeds", paramLabel = "N", defaultValue = "3", description = "el2n: models whose scores are averaged (default: ${DEFAULT-VALUE}).")
    int scoreSeeds;

    @Option(names = "--dm-iterations", paramLabel = "N", description = "dm: iterations, each with a fresh random net (default: 300).")
    Integer dmIterations;

    @Option(names = "--dm-width", paramLabel = "W", description = "dm: channels of the random convnet3-like embedding nets (default: 16).")
    Integer dmWidth;

    @Option(names = "--dm-batch", paramLabel = "B", description = "dm: real images per class per iteration (default: 64).")
    Integer dmBatch;

    @Option(names = "--dm-lr", paramLabel = "LR", description = "dm: learning rate of the images (SGD, momentum 0.5) (default: 100).")
    Float dmLr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the selection, scoring models and dm (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "The folder to write (must not exist, or be empty).")
    Path out;

    @Mixin
    CommonOptions common = new CommonOptions();

    private static final List<String> METHODS = List.of("random", "herding", "kcenter", "forgetting", "el2n", "dm");

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        int threads = common.begin();
        if (!METHODS.contains(method)) throw new BadInputException("--method: expected one of " + String.join(", ", METHODS) + ", got \"" + method + "\"");
        Budget budget = budget();
        boolean spaced = method.equals("herding") || method.equals("kcenter");
        if (space != null && !spaced) throw new BadInputException("--space: applies only to herding and kcenter, not " + method);
        if (space != null && !space.equals("embedding") && !space.equals("pixel")) {
            throw new BadInputException("--space: expected embedding or pixel, got \"" + space + "\"");
        }
        boolean pixelSpace = "pixel".equals(space);
        if (embedModel != null && (!spaced || pixelSpace)) throw new BadInputException("--embed-model: used only by herding and kcenter in embedding space");
        if (evalRuns < 1 || evalRuns > 1000) throw new BadInputException("--eval-runs: must be between 1 and 1000, got " + evalRuns);
        if (evalSteps < 1 || evalSteps > 100_000_000L) throw new BadInputException("--eval-steps: must be between 1 and 100000000, got " + evalSteps);
        if (!(evalLr > 0f) || Float.isInfinite(evalLr)) throw new BadInputException("--eval-lr: must be a positive number, got " + evalLr);
        if (fullEpochs < 0 || fullEpochs > 10_000) throw new BadInputException("--full-epochs: must be between 0 and 10000, got " + fullEpochs);
        if (scoreEpochs != null && (scoreEpochs < 1 || scoreEpochs > 10_000)) throw new BadInputException("--score-epochs: must be between 1 and 10000, got " + scoreEpochs);
        if (scoreSeeds < 1 || scoreSeeds > 100) throw new BadInputException("--score-seeds: must be between 1 and 100, got " + scoreSeeds);
        boolean scored = method.equals("forgetting") || method.equals("el2n");
        if (scoresFile != null && !scored) throw new BadInputException("--scores: used only by forgetting and el2n, not " + method);
        if (scoresFile != null && scoreEpochs != null) throw new BadInputException("--score-epochs: no scoring model is trained when --scores is given");
        DistributionMatching.Config dm = dmConfig();
        checkOutDir();

        DataSplit split = data.open(seed);
        Dataset train = split.train(), test = split.test();
        int[] shape = train.sampleShape();
        double[] meanStd = Datasets.pixelMeanStd(train).orElse(null);
        if (meanStd == null || shape.length != 3 || shape[0] != 1) {
            throw new BadInputException("--data " + data.name + ": coreset needs grey images (samples of shape [1, H, W]), got " + Arrays.toString(shape));
        }
        if (train.numClasses() > 256) throw new BadInputException("--data " + data.name + ": " + train.numClasses() + " classes do not fit IDX byte labels");
        PixelScale scale = new PixelScale(meanStd[0], meanStd[1]);
        int rows = shape[1], cols = shape[2];
        Sequential probe;
        try {
            probe = ArchSpec.build(evalArch, shape, 0);
        } catch (BadInputException e) {
            throw new BadInputException("--eval-arch \"" + evalArch + "\": " + e.getMessage());
        }
        if (probe.outputShape().length != 1 || probe.outputShape()[0] != train.numClasses()) {
            throw new BadInputException("--eval-arch \"" + evalArch + "\": outputs " + Arrays.toString(probe.outputShape()) + " but "
                    + data.name + " has " + train.numClasses() + " classes");
        }
        Sequential embedder = null;
        if (embedModel != null) {
            try {
                embedder = ModelFile.load(embedModel).floatModel(embedModel);
            } catch (BadInputException e) {
                throw new BadInputException("--embed-model: " + e.getMessage());
            } catch (IOException e) {
                throw new BadInputException("--embed-model: cannot read " + embedModel + ": " + e);
            }
            if (!Arrays.equals(embedder.inputShape(), shape)) {
                throw new BadInputException("--embed-model " + embedModel + ": takes inputs " + Arrays.toString(embedder.inputShape())
                        + " but " + data.name + " has samples of " + Arrays.toString(shape));
            }
        }

        PrintStream o = System.out;
        ClassIndex classes = ClassIndex.of(train);
        int total = 0;
        int[] counts = new int[classes.classes()];
        for (int c = 0; c < counts.length; c++) total += counts[c] = budget.countFor(classes.size(c));
        o.println("data     " + data.name + ": " + train.size() + " training images, " + test.size() + " test, " + train.numClasses() + " classes");
        o.println("budget   " + budget + " = " + total + " images; method " + method + (spaced ? " in " + (pixelSpace ? "pixel" : "embedding") + " space" : "")
                + "; seed " + seed + "; " + threads + " thread(s)");
        o.println("eval     " + evalArch + ", " + evalRuns + " runs x " + evalSteps + " Adam steps (lr " + evalLr + ") at batch "
                + StepTraining.batchSize(total) + "; random subsets " + (noCompareRandom ? "skipped" : "too")
                + "; full data " + (fullEpochs == 0 ? "skipped" : fullEpochs + " epoch(s)"));
        double[] givenScores = scoresFile != null ? readScores(scoresFile, train.size()) : null;

        int[] chosen = null;
        double[] scores = null;
        Dataset subset;
        byte[] pixels;
        int[] labels;
        Map<String, Object> methodFigures = new LinkedHashMap<>();
        if (method.equals("dm")) {
            o.printf(Locale.ROOT, "distribution matching: width %d, %d iterations, %d real images per class, image lr %s, momentum %s%n",
                    dm.width(), dm.iterations(), dm.realBatch(), dm.lr(), dm.momentum());
            int every = Math.max(1, dm.iterations() / 10);
            DistributionMatching.Result r;
            try {
                r = DistributionMatching.run(train, classes, budget, dm, (it, loss) -> {
                    if ((it + 1) % every == 0 || it == 0) o.printf(Locale.ROOT, "  iteration %5d  matching loss %.4f%n", it + 1, loss);
                });
            } catch (ArithmeticException e) {
                throw new BadInputException("--dm-lr " + dm.lr() + ": " + e.getMessage());
            }
            ArrayDataset syn = r.images();
            pixels = scale.toBytes(syn.data());
            labels = new int[syn.size()];
            for (int i = 0; i < labels.length; i++) labels[i] = syn.label(i);
            // evaluate what is written: the images as bytes, normalised as the real data is
            subset = new ArrayDataset(syn.name(), scale.normalise(pixels), labels, shape, train.numClasses());
            methodFigures.put("dm_first_loss", tenthMean(r.losses(), true));
            methodFigures.put("dm_last_loss", tenthMean(r.losses(), false));
        } else {
            if (scored) {
                scores = givenScores != null ? givenScores : score(train, o);
                if (givenScores != null) o.println(method + " scores read from " + scoresFile);
                chosen = ScoreSelection.highest(scores, classes, budget, seed);
            } else {
                chosen = select(train, classes, budget, pixelSpace, embedder, o);
            }
            subset = new Subset(train, chosen);
            ArrayDataset copy = ArrayDataset.copyOf(subset);
            pixels = scale.toBytes(copy.data());
            labels = new int[chosen.length];
            for (int i = 0; i < labels.length; i++) labels[i] = train.label(chosen[i]);
        }

        o.println();
        o.println("training on the " + method + " subset:");
        SubsetEvaluation.Result mine = SubsetEvaluation.evaluate(evalArch, subset, test, evalRuns, evalSteps, evalLr, runLine(o));
        SubsetEvaluation.Result random = null;
        if (!noCompareRandom) {
            o.println("training on random subsets of the same budget (drawn with seeds 0.." + (evalRuns - 1) + "):");
            Dataset trainRef = train;
            random = SubsetEvaluation.evaluate(evalArch,
                    run -> new Subset(trainRef, RandomSelection.select(classes, budget, run)), test, evalRuns, evalSteps, evalLr, runLine(o));
        }
        Double full = null;
        if (fullEpochs > 0) {
            o.println("training on the full training split:");
            Progress.header(o);
            Sequential model = ArchSpec.build(evalArch, shape, 0);
            Trainer.fit(model, train, test, TrainConfig.defaults().withEpochs(fullEpochs).withLearningRate(evalLr), new Progress(fullEpochs));
            full = Evaluator.evaluate(model, test, 256).accuracy();
        }

        writeOutputs(split, scale, pixels, labels, rows, cols, chosen, scores);

        o.println();
        o.printf(Locale.ROOT, "%-12s %8s %24s%n", "set", "images", "test accuracy");
        o.printf(Locale.ROOT, "%-12s %8d %15.2f%% ± %5.2f  (%d runs)%n", method, total, 100 * mine.mean(), 100 * mine.std(), evalRuns);
        if (random != null) o.printf(Locale.ROOT, "%-12s %8d %15.2f%% ± %5.2f  (%d runs)%n", "random", total, 100 * random.mean(), 100 * random.std(), evalRuns);
        if (full != null) o.printf(Locale.ROOT, "%-12s %8d %15.2f%%          (1 run, %d epochs)%n", "full data", train.size(), 100 * full, fullEpochs);
        double seconds = (System.nanoTime() - start) / 1e9;
        o.printf(Locale.ROOT, "wrote %s (IDX train/t10k files, %s%sgrid.png) in %.1f s%n", out, chosen != null ? "indices.txt, " : "",
                scores != null ? "scores.txt, " : "", seconds);

        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "coreset");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("data", data.name);
            settings.put("method", method);
            if (perClass != null) settings.put("per_class", perClass);
            if (fraction != null) settings.put("fraction", fraction);
            if (spaced) settings.put("space", pixelSpace ? "pixel" : "embedding");
            if (embedModel != null) settings.put("embed_model", embedModel.toString());
            settings.put("eval_arch", evalArch);
            settings.put("eval_runs", evalRuns);
            settings.put("eval_steps", evalSteps);
            settings.put("eval_batch_size", StepTraining.batchSize(total));
            settings.put("eval_lr", evalLr);
            settings.put("compare_random", !noCompareRandom);
            settings.put("full_epochs", fullEpochs);
            if (scoresFile != null) {
                settings.put("scores", scoresFile.toString());
            } else {
                if (scored || (spaced && !pixelSpace && embedModel == null)) settings.put("score_epochs", scoreEpochsFor());
                if (method.equals("el2n")) settings.put("score_seeds", scoreSeeds);
            }
            if (method.equals("dm")) {
                settings.put("dm_width", dm.width());
                settings.put("dm_iterations", dm.iterations());
                settings.put("dm_batch", dm.realBatch());
                settings.put("dm_lr", dm.lr());
                settings.put("dm_momentum", dm.momentum());
            }
            settings.put("seed", seed);
            settings.put("threads", threads);
            settings.put("out", out.toString());
            r.put("settings", settings);
            r.put("method", method);
            r.put("per_class", perClass != null ? (Object) perClass : (double) total / counts.length);
            r.put("per_class_counts", Arrays.stream(counts).boxed().toList());
            r.put("images", total);
            r.put("accuracy_mean", mine.mean());
            r.put("accuracy_std", mine.std());
            r.put("accuracies", Arrays.stream(mine.accuracies()).boxed().toList());
            r.put("random_accuracy_mean", random != null ? random.mean() : null);
            r.put("random_accuracy_std", random != null ? random.std() : null);
            r.put("random_accuracies", random != null ? Arrays.stream(random.accuracies()).boxed().toList() : null);
            r.put("full_accuracy", full);
            r.putAll(methodFigures);
            r.put("seconds", seconds);
            Reports.write(common.report, r);
        }
        return 0;
    }

    private Budget budget() throws BadInputException {
        if ((perClass == null) == (fraction == null)) throw new BadInputException("--per-class or --fraction: give exactly one");
        if (perClass != null) {
            if (perClass < 1 || perClass > 1_000_000) throw new BadInputException("--per-class: must be between 1 and 1000000, got " + perClass);
            return Budget.perClass(perClass);
        }
        if (!(fraction > 0 && fraction <= 1)) throw new BadInputException("--fraction: must be in (0, 1], got " + fraction);
        return Budget.fraction(fraction);
    }

    private DistributionMatching.Config dmConfig() throws BadInputException {
        boolean any = dmIterations != null || dmWidth != null || dmBatch != null || dmLr != null;
        if (any && !method.equals("dm")) throw new BadInputException("--dm-*: options of --method dm only, not " + method);
        DistributionMatching.Config d = DistributionMatching.Config.defaults();
        int it = dmIterations != null ? dmIterations : d.iterations();
        int w = dmWidth != null ? dmWidth : d.width();
        int b = dmBatch != null ? dmBatch : d.realBatch();
        float lr = dmLr != null ? dmLr : d.lr();
        if (it < 1 || it > 10_000_000) throw new BadInputException("--dm-iterations: must be between 1 and 10000000, got " + it);
        if (w < 1 || w > 1024) throw new BadInputException("--dm-width: must be between 1 and 1024, got " + w);
        if (b < 1 || b > 100_000) throw new BadInputException("--dm-batch: must be between 1 and 100000, got " + b);
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new BadInputException("--dm-lr: must be a positive number, got " + lr);
        return new DistributionMatching.Config(w, it, b, lr, d.momentum(), seed);
    }

    private int scoreEpochsFor() {
        if (scoreEpochs != null) return scoreEpochs;
        return method.equals("forgetting") ? 3 : 1;
    }

    private int[] select(Dataset train, ClassIndex classes, Budget budget, boolean pixelSpace, Sequential embedder, PrintStream o)
            throws BadInputException {
        return switch (method) {
            case "random" -> RandomSelection.select(classes, budget, seed);
            case "herding", "kcenter" -> {
                Embedding e;
                if (pixelSpace) {
                    e = Embedding.pixels(train.sampleShape());
                } else {
                    if (embedder == null) {
                        int epochs = scoreEpochsFor();
                        embedder = ArchSpec.build(evalArch, train.sampleShape(), seed);
                        Trainer.fit(embedder, train, null, TrainConfig.defaults().withEpochs(epochs).withLearningRate(evalLr).withSeed(seed),
                                TrainingListener.NONE);
                        o.println("note: no --embed-model; embedding with a quick " + evalArch + " trained for " + epochs + " epoch(s) on the training split");
                    }
                    e = Embedding.penultimate(embedder);
                }
                o.println(method + " in a " + e.dim() + "-dimensional " + (e.isPixelSpace() ? "pixel" : "embedding") + " space");
                yield method.equals("herding") ? Herding.select(train, classes, e, budget)
                        : KCenterGreedy.select(train, classes, e, budget, seed);
            }
            default -> throw new IllegalStateException(method);
        };
    }

    /** Forgetting or EL2N scores of every training image, from scoring models trained here. */
    private double[] score(Dataset train, PrintStream o) throws BadInputException {
        int epochs = scoreEpochsFor();
        if (method.equals("forgetting")) {
            o.println("forgetting scores: training " + evalArch + " for " + epochs + " epoch(s), counting forgetting events");
            Sequential m = ArchSpec.build(evalArch, train.sampleShape(), seed);
            double[] s = ForgettingScores.compute(m, train, epochs, evalLr, seed);
            long unlearned = Arrays.stream(s).filter(Double::isInfinite).count();
            long never = Arrays.stream(s).filter(v -> v == 0).count();
            o.printf(Locale.ROOT, "  %d never learned, %d never forgotten, %d forgotten at least once%n", unlearned, never, s.length - unlearned - never);
            return s;
        }
        o.println("EL2N scores: " + scoreSeeds + " " + evalArch + " models trained for " + epochs + " epoch(s), error norms averaged");
        return El2nScores.compute(evalArch, train, epochs, scoreSeeds, evalLr, seed);
    }

    /**
     * Reads a scores.txt: one score per training image, in the training split's order, as
     * {@link Double#toString} wrote it ("Infinity" marks a forgetting example never learned).
     */
    static double[] readScores(Path file, int expected) throws BadInputException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException("--scores: no such file " + file);
        } catch (IOException e) {
            throw new BadInputException("--scores: cannot read " + file + ": " + e.getMessage());
        }
        if (lines.size() != expected) {
            throw new BadInputException("--scores " + file + ": " + lines.size() + " lines, but the training split has " + expected + " images");
        }
        double[] s = new double[expected];
        for (int i = 0; i < expected; i++) {
            String line = lines.get(i).strip();
            try {
                s[i] = Double.parseDouble(line);
            } catch (NumberFormatException e) {
                s[i] = Double.NaN;
            }
            if (Double.isNaN(s[i]) || s[i] < 0) {
                throw new BadInputException("--scores " + file + ": line " + (i + 1) + ": expected a score >= 0, got \"" + line + "\"");
            }
        }
        return s;
    }

    private static SubsetEvaluation.Listener runLine(PrintStream o) {
        return (run, acc) -> {
            o.printf(Locale.ROOT, "  run %d (seed %d)  test accuracy %.2f%%%n", run + 1, run, 100 * acc);
            o.flush();
        };
    }

    private static double tenthMean(double[] v, boolean first) {
        int n = Math.max(1, v.length / 10);
        double s = 0;
        for (int i = 0; i < n; i++) s += v[first ? i : v.length - 1 - i];
        return s / n;
    }

    /** Refuses an --out that is a file, sits under a file, or is a folder with something in it. */
    private void checkOutDir() throws BadInputException {
        Path abs = out.toAbsolutePath();
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) throw new BadInputException("--out: " + out + " is a file; give a folder");
            try (Stream<Path> s = Files.list(abs)) {
                if (s.findAny().isPresent()) throw new BadInputException("--out: " + out + " exists and is not empty");
            } catch (IOException e) {
                throw new BadInputException("--out: cannot read " + out + ": " + e.getMessage());
            }
        }
        for (Path p = abs.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) throw new BadInputException("--out: " + out + ": " + p + " is not a directory");
                break;
            }
        }
    }

    /** Writes everything into a temporary sibling folder, then renames it to --out. */
    private void writeOutputs(DataSplit split, PixelScale scale, byte[] pixels, int[] labels, int rows, int cols, int[] chosen, double[] scores)
            throws IOException {
        Path abs = out.toAbsolutePath();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + abs.getFileName() + ".tmp-" + Long.toHexString(System.nanoTime()));
        Files.createDirectory(tmp);
        try {
            byte[] y = new byte[labels.length];
            for (int i = 0; i < y.length; i++) y[i] = (byte) labels[i];
            IdxWriter.writeImages(tmp.resolve("train-images-idx3-ubyte"), labels.length, rows, cols, pixels);
            IdxWriter.writeLabels(tmp.resolve("train-labels-idx1-ubyte"), y);
            ArrayDataset test = ArrayDataset.copyOf(split.test());
            byte[] ty = new byte[test.size()];
            for (int i = 0; i < ty.length; i++) ty[i] = (byte) test.label(i);
            IdxWriter.writeImages(tmp.resolve("t10k-images-idx3-ubyte"), test.size(), rows, cols, scale.toBytes(test.data()));
            IdxWriter.writeLabels(tmp.resolve("t10k-labels-idx1-ubyte"), ty);
            if (chosen != null) {
                StringBuilder sb = new StringBuilder();
                for (int i : chosen) sb.append(i).append('\n');
                Files.writeString(tmp.resolve("indices.txt"), sb, StandardCharsets.UTF_8);
            }
            if (scores != null) {
                StringBuilder sb = new StringBuilder();
                for (double v : scores) sb.append(v).append('\n');
                Files.writeString(tmp.resolve("scores.txt"), sb, StandardCharsets.UTF_8);
            }
            PngGrid.write(tmp.resolve("grid.png"), PngGrid.layout(pixels, labels, split.train().numClasses(), rows, cols, GRID_COLUMNS));
            if (Files.isDirectory(abs)) Files.delete(abs); // checked empty before any work
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs);
            }
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
