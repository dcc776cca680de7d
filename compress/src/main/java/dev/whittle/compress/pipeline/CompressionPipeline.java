package dev.whittle.compress.pipeline;

import dev.whittle.compress.distill.DistillConfig;
import dev.whittle.compress.distill.Distiller;
import dev.whittle.compress.prune.MagnitudePruning;
import dev.whittle.compress.prune.PruneConfig;
import dev.whittle.compress.prune.Pruning;
import dev.whittle.compress.quantize.PostTrainingQuantizer;
import dev.whittle.compress.quantize.QuantizationConfig;
import dev.whittle.compress.quantize.Sensitivity;
import dev.whittle.compress.quantize.WeightSharing;
import dev.whittle.compress.report.InferenceTiming;
import dev.whittle.compress.report.LayerTable;
import dev.whittle.compress.report.StepMetrics;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Model;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainingListener;
import dev.whittle.kernels.QuantParams.Granularity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * {@code whittle compress}: runs a {@link Recipe}'s steps on a trained model, each step starting
 * from the last one kept, under an accuracy budget.
 *
 * <p>The budget is judged on a validation split carved from the training data (never the test
 * split): after each step, if the model's validation accuracy fell more than the allowed points
 * below the original's, the step backs off and tries again, gentler (a lower sparsity, fewer units
 * removed, more shared values, more layers left in FP32), up to its {@code tries}; if no try fits,
 * the step is dropped and the pipeline goes on from the last model that fitted.
 *
 * <p>The steps fine-tune on the whole training split, validation share included, as the original
 * was trained. A model handed to whittle has almost always seen every training image, so its
 * accuracy on a held-out share is its training accuracy (99.75% against 96.15% on test for
 * lenet-300-100 on mnist-10k); a compressed model fine-tuned without that share would be judged
 * on images only the original had learned, and the budget would measure forgetting, not
 * compression (it refused a 90%-pruned model whose test accuracy was unchanged). Judged on
 * images both have trained on, the comparison is like for like; it still errs on the safe side,
 * since a smaller model fits its training images less closely than it loses on unseen ones.
 *
 * <p>The original model
 * is the teacher of {@code distill} and {@code recover}. Every kept step is saved, measured (test
 * accuracy, file and header bytes, parameters, nonzeros, per-layer formats) and, at the end, timed
 * with the others, taking turns in short bursts.
 */
public final class CompressionPipeline {

    /** Fine-tuning and distillation batch: the training default. */
    private static final int BATCH = 128;
    private static final int EVAL_BATCH = 256;

    /**
     * How to run.
     *
     * @param recipe                the steps
     * @param maxAccuracyDropPoints the budget: validation accuracy may fall this many points below the original's
     * @param seed                  seeds the validation split, every fine-tuning and initialisation
     * @param timingRuns            batch-1 and batch-64 runs per model at the end (0: no timing)
     * @param metadata              written into every saved model (the manifest, the recipe)
     * @param out                   where the final model goes
     */
    public record Settings(Recipe recipe, double maxAccuracyDropPoints, long seed, int timingRuns, Map<String, String> metadata, Path out) {}

    /** Where the pipeline tells what it is doing: lines of text, and a listener for each training run. */
    public interface Log {
        void line(String text);

        /** A listener for a training run of {@code epochs} epochs. */
        TrainingListener training(int epochs);
    }

    /** The measured steps (the original first, the final model last) and the final model. */
    public record Outcome(List<StepMetrics> steps, Model model, double budgetAccuracy, double baselineValidationAccuracy) {}

    /** A step's model as it stands, float or quantized, with what it is made of. */
    private record State(Sequential floatModel, Model model, boolean shared) {}

    private final Sequential original;
    private final Path originalFile;
    private final Dataset trainData;
    private final Dataset test;
    private final Settings settings;
    private final Log log;
    private final ValidationSplit split;

    private CompressionPipeline(Sequential original, Path originalFile, Dataset train, Dataset test, Settings settings, Log log) {
        this.original = original;
        this.originalFile = originalFile;
        this.trainData = train;
        this.test = test;
        this.settings = settings;
        this.log = log;
        this.split = ValidationSplit.of(train, ValidationSplit.FRACTION, settings.seed());
    }

    /**
     * Runs the pipeline on {@code original} (saved in {@code originalFile}; not changed): steps
     * learn and decide on {@code train} (a validation share held out of it), {@code test} is only
     * measured.
     */
    public static Outcome run(Sequential original, Path originalFile, Dataset train, Dataset test, Settings settings, Log log)
            throws IOException, BadInputException {
        return new CompressionPipeline(original, originalFile, train, test, settings, log).run();
    }

    private Outcome run() throws IOException, BadInputException {
        Path work = Files.createTempDirectory("whittle-compress");
        try {
            return run(work);
        } finally {
            try (var files = Files.list(work)) {
                for (Path p : (Iterable<Path>) files::iterator) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(work);
        }
    }

    private Outcome run(Path work) throws IOException, BadInputException {
        double baseVal = accuracy(original, split.validation());
        double budget = baseVal - settings.maxAccuracyDropPoints() / 100;
        log.line(String.format(Locale.ROOT, "validation: %,d of the %,d training samples (seed %d) judge the budget; the original scores %.2f%%,"
                        + " the budget is %.2f%% (%.2f points)", split.validation().size(), trainData.size(), settings.seed(),
                100 * baseVal, 100 * budget, settings.maxAccuracyDropPoints()));
        List<Measured> kept = new ArrayList<>();
        kept.add(measure("original", new State(original, original, false), baseVal, 0, "the trained model", originalFile));
        State current = kept.get(0).state;
        double currentValidation = baseVal;
        List<Recipe.Step> steps = settings.recipe().steps();
        for (int s = 0; s < steps.size(); s++) {
            Recipe.Step step = steps.get(s);
            boolean last = s == steps.size() - 1;
            log.line("");
            log.line("step " + (s + 1) + "/" + steps.size() + ": " + step.line());
            long t0 = System.nanoTime();
            Attempt fitted = null;
            List<String> refused = new ArrayList<>();
            int tries = backsOff(step.name()) ? step.integer("tries") : 1;
            Map<Integer, List<Integer>> sensitiveFirst = new HashMap<>();   // by bits, scanned when a back-off first needs it
            State from = current;
            double fromValidation = currentValidation;
            IntFunction<List<Integer>> order = bits -> sensitiveFirst.computeIfAbsent(bits, b -> sensitiveLayers(from, fromValidation, step, b));
            for (int k = 0; k < tries && fitted == null; k++) {
                Recipe.Step trial = backOff(step, k, order);
                if (trial == null) break;
                if (k > 0) log.line("  backing off: " + trial.line());
                State next = apply(trial, current);
                double val = accuracy(next.model(), split.validation());
                log.line(String.format(Locale.ROOT, "  validation accuracy %.2f%% (budget %.2f%%)", 100 * val, 100 * budget));
                if (val >= budget) fitted = new Attempt(trial, next, val);
                else refused.add(String.format(Locale.ROOT, "%s: %.2f%%", describe(trial), 100 * val));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (fitted == null) {
                log.line("  no try fitted the budget: step dropped, going on from the previous model");
                continue;
            }
            String note = describe(fitted.step) + (refused.isEmpty() ? "" : " (over budget: " + String.join("; ", refused) + ")");
            Path file = last ? settings.out() : work.resolve(kept.size() + "-" + step.name() + ".safetensors");
            kept.add(measure(step.name(), fitted.state, fitted.validation, seconds, note, save(fitted.state.model(), file)));
            current = fitted.state;
            currentValidation = fitted.validation;
        }
        if (kept.size() > 1 && kept.get(kept.size() - 1).file != settings.out()) {
            // the last step was dropped: the final model is the last kept one, saved to --out
            Measured m = kept.remove(kept.size() - 1);
            kept.add(measure(m.name, m.state, m.validation, m.seconds, m.note, save(m.state.model(), settings.out())));
        } else if (kept.size() == 1) {
            log.line("");
            log.line("no step fitted the budget: the output is the original model, saved again");
            save(original, settings.out());
        }
        List<StepMetrics> metrics = timed(kept);
        return new Outcome(metrics, kept.get(kept.size() - 1).state.model(), budget, baseVal);
    }

    /** A try of a step that fitted the budget. */
    private record Attempt(Recipe.Step step, State state, double validation) {}

    /** A kept step: its state, its figures, its file. */
    private record Measured(String name, State state, double validation, double test, double seconds, String note, Path file,
                            SafeTensorsFile stored) {}

    /** Which steps have a gentler form to back off to. */
    private static boolean backsOff(String step) {
        return switch (step) {
            case "prune", "prune-structured", "share", "quantize" -> true;
            default -> false;
        };
    }

    /**
     * The {@code k}-th try of a step: as written for {@code k = 0}, then each time gentler:
     * twice the weights kept, half the units removed, twice the shared values, one more of the
     * most sensitive layers (on validation) left in FP32. INT4 first moves its most sensitive
     * layers to INT8 one at a time (mixed precision: INT4 where the sensitivity scan allows),
     * then all of them, then goes on as INT8 does. {@code sensitiveFirst} gives the quantizable
     * layers, most sensitive first, when quantized alone to the given bits.
     */
    static Recipe.Step backOff(Recipe.Step step, int k, IntFunction<List<Integer>> sensitiveFirst) {
        if (k == 0) return step;
        return switch (step.name()) {
            case "prune" -> {
                double kept = (1 - step.number("sparsity")) * Math.pow(2, k);
                yield kept >= 1 ? null : step.with("sparsity", round(1 - kept));
            }
            case "prune-structured" -> step.with("fraction", round(step.number("fraction") / Math.pow(2, k)));
            case "share" -> {
                long c = step.integer("clusters") * (1L << k);
                yield c > 256 ? null : step.with("clusters", Long.toString(c));
            }
            case "quantize" -> {
                if (step.integer("bits") == 8) yield quantizeKeeping(step, k, sensitiveFirst.apply(8));
                List<Integer> order = sensitiveFirst.apply(4);
                if (k < order.size()) yield new Recipe.Step(step.name(), withKey(step.settings(), "int8-layers", joined(order, k)));
                yield quantizeKeeping(step.with("bits", "8"), k - order.size(), sensitiveFirst.apply(8));
            }
            default -> null;
        };
    }

    private static Recipe.Step quantizeKeeping(Recipe.Step step, int n, List<Integer> sensitiveFirst) {
        if (n == 0) return step;
        if (n > sensitiveFirst.size() - 1) return null;   // at least one layer stays integer
        return new Recipe.Step(step.name(), withKey(step.settings(), "keep-float", joined(sensitiveFirst, n)));
    }

    /** The first {@code n} of {@code layers}, comma-separated. */
    private static String joined(List<Integer> layers, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ",").append(layers.get(i));
        return b.toString();
    }

    private static Map<String, String> withKey(Map<String, String> m, String key, String value) {
        Map<String, String> c = new java.util.LinkedHashMap<>(m);
        c.put(key, value);
        return c;
    }

    private static String round(double x) {
        return String.format(Locale.ROOT, "%.4f", x).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /**
     * The quantizable layers, the one whose quantization alone (to {@code bits}, as {@code step}
     * calibrates) costs the most validation accuracy first; {@code validation} is the current
     * model's.
     */
    private List<Integer> sensitiveLayers(State current, double validation, Recipe.Step step, int bits) {
        QuantizationConfig config = quantization(current, step.with("bits", Integer.toString(bits)).settings(), Set.of());
        List<Sensitivity.LayerResult> r = new ArrayList<>(Sensitivity.analyze(current.floatModel(), trainData, split.validation(), config, validation));
        r.sort(Comparator.comparingDouble(Sensitivity.LayerResult::dropPoints).reversed().thenComparingInt(Sensitivity.LayerResult::index));
        List<Integer> order = new ArrayList<>();
        StringBuilder drops = new StringBuilder();
        for (Sensitivity.LayerResult x : r) {
            order.add(x.index());
            drops.append(String.format(Locale.ROOT, "%s layer %d %+.2f", drops.isEmpty() ? "" : ",", x.index(), -x.dropPoints()));
        }
        log.line("  INT" + bits + " sensitivity on validation, each layer alone (most sensitive first):" + drops);
        return order;
    }

    /** Runs one try of a step on the current model. */
    private State apply(Recipe.Step step, State current) throws BadInputException {
        Dataset train = trainData;
        long seed = settings.seed();
        Sequential m = current.floatModel();
        return switch (step.name()) {
            case "distill" -> {
                Sequential student = ArchSpec.build(step.text("student").replace('_', ' '), m.inputShape(), seed);
                int epochs = step.integer("epochs");
                Distiller.fit(original, student, train, null, distillation(step, epochs), log.training(epochs));
                yield new State(student, student, false);
            }
            case "prune-structured" -> {
                if (step.number("fraction") == 0) yield current;
                PruneConfig.Method method = switch (step.text("criterion")) {
                    case "l2" -> PruneConfig.Method.L2_STRUCTURED;
                    case "bn-gamma" -> PruneConfig.Method.BN_GAMMA;
                    default -> PruneConfig.Method.L1_STRUCTURED;
                };
                int epochs = step.integer("epochs");
                PruneConfig c = new PruneConfig(method, step.number("fraction"), MagnitudePruning.Scope.GLOBAL, PruneConfig.Schedule.ONESHOT, 1,
                        epochs, (float) step.number("lr"), false, -1, seed);
                Sequential p = Pruning.run(m, train, null, c, log.training(Math.max(1, epochs))).model();
                yield new State(p, p, false);
            }
            case "prune" -> {
                int epochs = step.integer("epochs");
                PruneConfig c = new PruneConfig(PruneConfig.Method.MAGNITUDE, step.number("sparsity"),
                        step.text("scope").equals("layer") ? MagnitudePruning.Scope.LAYER : MagnitudePruning.Scope.GLOBAL,
                        step.text("schedule").equals("oneshot") ? PruneConfig.Schedule.ONESHOT : PruneConfig.Schedule.GRADUAL, 1,
                        epochs, (float) step.number("lr"), false, -1, seed);
                Sequential p = Pruning.run(m, train, null, c, log.training(Math.max(1, epochs))).model();
                yield new State(p, p, false);
            }
            case "recover" -> {
                Sequential c = m.copy();
                int epochs = step.integer("epochs");
                Distiller.fit(original, c, train, null, distillation(step, epochs), log.training(epochs));
                yield new State(c, c, false);
            }
            case "share" -> {
                int epochs = step.integer("epochs");
                WeightSharing.Config c = WeightSharing.Config.defaults().withClusters(step.integer("clusters"))
                        .withFineTuning(epochs, (float) step.number("lr")).withSeed(seed);
                Sequential s = WeightSharing.share(m, train, c, log.training(Math.max(1, epochs))).model();
                yield new State(s, s, true);
            }
            case "quantize" -> {
                QuantizedModel q = PostTrainingQuantizer.quantize(m, train, quantization(current, step.settings(), layers(step, "keep-float"))
                        .withInt8Layers(layers(step, "int8-layers")));
                yield new State(m, q, current.shared());
            }
            default -> throw new IllegalStateException("no step " + step.name());
        };
    }

    /** The layer indices a back-off wrote into {@code key} of the step's settings (none if absent). */
    private static Set<Integer> layers(Recipe.Step step, String key) {
        Set<Integer> out = new HashSet<>();
        String v = step.settings().get(key);
        if (v != null) for (String x : v.split(",")) out.add(Integer.parseInt(x));
        return out;
    }

    private DistillConfig distillation(Recipe.Step step, int epochs) {
        return new DistillConfig((float) step.number("temperature"), (float) step.number("alpha"), List.of(),
                Distiller.stepsFor(epochs, trainData.size(), BATCH), BATCH, (float) step.number("lr"), settings.seed(), 0, true);
    }

    /**
     * INT8 weights per channel, or per tensor when the weights are shared (a per-tensor scale keeps
     * the shared values exactly on the integer grid they were snapped to); INT4 in groups of 64.
     */
    private QuantizationConfig quantization(State current, Map<String, String> s, Set<Integer> keepFloat) {
        int bits = Integer.parseInt(s.get("bits"));
        QuantizationConfig c = bits == 4 ? QuantizationConfig.int4(64)
                : QuantizationConfig.int8().withWeights(current.shared() ? Granularity.PER_TENSOR : Granularity.PER_CHANNEL, 0);
        return c.withCalibration(s.get("calibration"), Integer.parseInt(s.get("samples")), settings.seed()).withKeepFloat(keepFloat);
    }

    /** What a step did, in a few words. */
    static String describe(Recipe.Step s) {
        return switch (s.name()) {
            case "distill" -> "student " + s.text("student").replace('_', ' ') + ", T " + s.text("temperature") + ", alpha " + s.text("alpha")
                    + ", " + epochs(s);
            case "prune-structured" -> s.text("fraction") + " of the units (" + s.text("criterion") + "), " + epochs(s);
            case "prune" -> "sparsity " + s.text("sparsity") + " (" + s.text("scope") + ", " + s.text("schedule") + ", " + epochs(s) + ")";
            case "recover" -> "distilled from the original, T " + s.text("temperature") + ", alpha " + s.text("alpha") + ", " + epochs(s);
            case "share" -> s.text("clusters") + " shared values a layer, " + epochs(s) + " of centroid tuning";
            case "quantize" -> "INT" + s.text("bits") + (s.settings().containsKey("int8-layers") ? " (layers " + s.text("int8-layers") + " INT8)" : "")
                    + ", " + s.text("calibration") + " calibration on " + s.text("samples") + " samples"
                    + (s.settings().containsKey("keep-float") ? ", layers " + s.text("keep-float") + " kept FP32" : "");
            default -> s.line();
        };
    }

    private static String epochs(Recipe.Step s) {
        return s.text("epochs") + (s.integer("epochs") == 1 ? " epoch" : " epochs");
    }

    private Path save(Model model, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        if (model instanceof QuantizedModel q) ModelFile.save(q, file, settings.metadata());
        else ModelFile.save((Sequential) model, file, settings.metadata());
        return file;
    }

    private Measured measure(String name, State state, double validation, double seconds, String note, Path file)
            throws IOException, BadInputException {
        double accuracy = accuracy(state.model(), test);
        SafeTensorsFile stored = SafeTensors.read(file);
        log.line(String.format(Locale.ROOT, "  %s: test accuracy %.2f%%, %,d bytes", name, 100 * accuracy, stored.fileBytes()));
        return new Measured(name, state, validation, accuracy, seconds, note, file, stored);
    }

    /** Every kept step's figures, timed together at the end, taking turns in short bursts. */
    private List<StepMetrics> timed(List<Measured> kept) {
        List<InferenceTiming.Result> times = null;
        if (settings.timingRuns() > 0) {
            log.line("");
            log.line("timing " + kept.size() + " models: " + settings.timingRuns() + " runs each at batch 1 and " + InferenceTiming.THROUGHPUT_BATCH
                    + ", taking turns, after warm-up");
            List<Model> models = new ArrayList<>();
            for (Measured m : kept) models.add(m.state.model());
            times = InferenceTiming.measure(models, test, settings.timingRuns());
        }
        List<StepMetrics> out = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) {
            Measured m = kept.get(i);
            InferenceTiming.Result t = times == null ? null : times.get(i);
            Model model = m.state.model();
            out.add(new StepMetrics(m.name, m.test, m.validation, m.stored.fileBytes(), m.stored.headerBytes(), model.parameterCount(),
                    LayerTable.nonzeroWeights(model), t == null ? Double.NaN : t.latencyUsP50(), t == null ? Double.NaN : t.latencyUsP95(),
                    t == null ? Double.NaN : t.throughputPerSecond(), m.seconds, LayerTable.rows(model, m.stored), m.note));
        }
        return out;
    }

    private static double accuracy(Model model, Dataset d) {
        return Evaluator.evaluate(model, d, EVAL_BATCH).accuracy();
    }
}
