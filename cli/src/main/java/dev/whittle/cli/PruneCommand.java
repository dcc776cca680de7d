package dev.whittle.cli;

import dev.whittle.compress.prune.MagnitudePruning;
import dev.whittle.compress.prune.PrunableWeights;
import dev.whittle.compress.prune.PruneConfig;
import dev.whittle.compress.prune.Pruning;
import dev.whittle.compress.prune.PruningSensitivity;
import dev.whittle.compress.report.InferenceTiming;
import dev.whittle.datasets.DataSplit;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.kernels.Kernels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle prune}: remove weights, units or a layer from a trained model, fine-tune, and measure what it saved. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Prune a trained model and fine-tune it.",
                "Magnitude, 2:4, structured neurons/filters, or a whole layer; saves it (sparse weights compressed) and reports accuracy, size, sparsity, batch-1 latency and batch-64 throughput before and after."})
final class PruneCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The trained FP32 model (.safetensors).")
    Path modelPath;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--method", defaultValue = "magnitude",
            description = "magnitude, 2:4, l1-structured, l2-structured, bn-gamma or remove-layer:I (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--sparsity", paramLabel = "S", defaultValue = "0.9",
            description = "Fraction of weights (magnitude) or of neurons/filters (structured) to remove (default: ${DEFAULT-VALUE}).")
    double sparsity;

    @Option(names = "--scope", defaultValue = "global", description = "Magnitude threshold per layer or global (default: ${DEFAULT-VALUE}).")
    String scope;

    @Option(names = "--schedule", defaultValue = "gradual",
            description = "Magnitude only: oneshot, iterative:N or gradual (Zhu and Gupta 2017, during fine-tuning) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--finetune-epochs", paramLabel = "E", defaultValue = "5", description = "Fine-tuning epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Fine-tuning learning rate, Adam (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--rewind", description = "Iterative schedule: reset the surviving weights to their pre-fine-tuning values after each pruning (lottery ticket).")
    boolean rewind;

    @Option(names = "--sensitivity", description = "Also scan accuracy against sparsity for each layer alone (no fine-tuning).")
    boolean sensitivity;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fine-tuning (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "300", description = "Timed runs at batch 1 and 64 per model; 0 skips timing (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to save the pruned model (.safetensors).")
    Path out;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        int threads = common.begin();
        CommonOptions.checkOutputPath("--out", out);
        PruneConfig config = config();
        if (runs != 0 && (runs < 5 || runs > 1_000_000)) throw new BadInputException("--runs: must be 0 or between 5 and 1000000, got " + runs);
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        data.defaultTo(loaded.metadata(), modelPath);
        Sequential model = loaded.floatModel(modelPath);
        if (config.method() == PruneConfig.Method.REMOVE_LAYER && (config.layer() >= model.layers().size())) {
            throw new BadInputException("--method remove-layer:" + config.layer() + ": " + modelPath + " has " + model.layers().size() + " layers");
        }
        if (config.method() == PruneConfig.Method.REMOVE_LAYER && !(model.layers().get(config.layer()) instanceof dev.whittle.engine.nn.Linear)
                && !(model.layers().get(config.layer()) instanceof dev.whittle.engine.nn.Conv2d)) {
            throw new BadInputException("--method remove-layer:" + config.layer() + ": layer " + config.layer() + " of " + modelPath + " is "
                    + model.layers().get(config.layer()).spec() + ", not a Linear or Conv2d (see whittle inspect)");
        }
        if (config.method() == PruneConfig.Method.BN_GAMMA
                && model.layers().stream().noneMatch(l -> l instanceof dev.whittle.engine.nn.BatchNorm)) {
            // ranking by gamma needs a batch norm after the pruned layers; without any it would silently rank by L1
            throw new BadInputException("--method bn-gamma: " + modelPath + " (" + model.arch() + ") has no batch norm; use l1-structured or l2-structured");
        }
        DataSplit split = data.open(seed);
        ModelStats.checkInputs(modelPath, model, data.name, split.train().sampleShape());
        PrintStream o = System.out;
        o.println("model    " + modelPath + "  (" + model.arch() + ", " + String.format(Locale.ROOT, "%,d", model.parameterCount()) + " parameters)");
        o.println("pruning  " + method + (isMagnitude() ? " to " + sparsity + " sparsity, " + scope + ", " + schedule : isStructured() ? ", " + sparsity + " of the units" : "")
                + "; fine-tuning " + epochs + " epochs, adam lr " + lr + "; " + threads + " thread(s); kernels: " + Kernels.describe());
        Evaluation before = Evaluator.evaluate(model, split.test(), 256);
        if (epochs > 0) Progress.header(o);
        Pruning.Result result = Pruning.run(model, split.train(), split.test(), config, new Progress(Math.max(1, epochs)));
        Sequential pruned = result.model();
        Evaluation after = Evaluator.evaluate(pruned, split.test(), 256);

        Map<String, String> meta = new LinkedHashMap<>(loaded.metadata());
        meta.keySet().removeIf(k -> k.startsWith("whittle.") && !DataOptions.DATA_KEYS.contains(k));
        String previous = loaded.metadata().get("whittle.recipe");
        // only the options the method used: 2:4 and remove-layer take no sparsity, structured pruning no scope or schedule
        String mine = "prune --method " + method + (isMagnitude() || isStructured() ? " --sparsity " + sparsity : "")
                + (isMagnitude() ? " --scope " + scope + " --schedule " + schedule + (rewind ? " --rewind" : "") : "")
                + " --finetune-epochs " + epochs + " --lr " + lr + " --seed " + seed;
        meta.put("whittle.recipe", previous == null ? mine : previous + " | " + mine);
        meta.put("whittle.metrics", Json.write(Map.of("accuracy", after.accuracy())));
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        ModelFile.save(pruned, out, meta);
        SafeTensorsFile written = SafeTensors.read(out);
        Sequential reloaded = (Sequential) ModelFile.load(out).model();

        List<InferenceTiming.Result> timing = runs == 0 ? null : InferenceTiming.measure(List.of(model, reloaded), split.test(), runs);
        List<Object> layers = printLayers(o, model, pruned, written);
        List<Object> sens = sensitivity ? printSensitivity(o, model, split) : null;

        Map<String, Object> baseline = ModelStats.of(model, before.accuracy(), loaded.fileBytes(), loaded.headerBytes());
        Map<String, Object> fin = ModelStats.of(pruned, after.accuracy(), written.fileBytes(), written.headerBytes());
        if (timing != null) {
            ModelStats.putTiming(baseline, timing.get(0));
            ModelStats.putTiming(fin, timing.get(1));
        }
        double sparsityAfter = PrunableWeights.sparsity(pruned);
        double ratio = (double) loaded.fileBytes() / written.fileBytes();
        o.println();
        o.printf("%-22s %14s %14s%n", "", "before", "after");
        o.printf(Locale.ROOT, "%-22s %13.2f%% %13.2f%%%n", "test accuracy", 100 * before.accuracy(), 100 * after.accuracy());
        o.printf(Locale.ROOT, "%-22s %,14d %,14d%n", "parameters", model.parameterCount(), pruned.parameterCount());
        o.printf(Locale.ROOT, "%-22s %,14d %,14d%n", "nonzero weights", ModelStats.nonzeroWeights(model), ModelStats.nonzeroWeights(pruned));
        o.printf(Locale.ROOT, "%-22s %,14d %,14d%n", "file bytes", loaded.fileBytes(), written.fileBytes());
        if (timing != null) {
            o.printf(Locale.ROOT, "%-22s %14.1f %14.1f%n", "latency p50 (us, b=1)", timing.get(0).latencyUsP50(), timing.get(1).latencyUsP50());
            o.printf(Locale.ROOT, "%-22s %14.1f %14.1f%n", "latency p95 (us, b=1)", timing.get(0).latencyUsP95(), timing.get(1).latencyUsP95());
            o.printf(Locale.ROOT, "%-22s %14.0f %14.0f%n", "samples/s (b=64)", timing.get(0).throughputPerSecond(), timing.get(1).throughputPerSecond());
        }
        o.println();
        o.printf(Locale.ROOT, "sparsity %.2f%%", 100 * sparsityAfter);
        if (result.structure() != null) o.printf(Locale.ROOT, "; units removed %.1f%%", 100 * result.structure().unitsRemoved());
        o.printf(Locale.ROOT, "; accuracy drop %.2f points; %s", 100 * (before.accuracy() - after.accuracy()), Reports.smaller(ratio, "%.2f"));
        if (timing != null) o.print("; " + Reports.faster(timing.get(0).latencyUsP50() / timing.get(1).latencyUsP50(), "%.2f") + " at batch 1");
        o.println();
        o.printf(Locale.ROOT, "saved %s (%,d bytes, header %,d bytes)%n", out, written.fileBytes(), written.headerBytes());

        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "prune");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("model", modelPath.toString());
            settings.put("data", data.name);
            settings.put("method", method);
            settings.put("sparsity", sparsity);
            settings.put("scope", scope);
            settings.put("schedule", schedule);
            settings.put("finetune_epochs", epochs);
            settings.put("lr", lr);
            settings.put("rewind", rewind);
            settings.put("seed", seed);
            settings.put("runs", runs);
            settings.put("threads", threads);
            settings.put("out", out.toString());
            r.put("settings", settings);
            r.put("baseline", baseline);
            r.put("final", fin);
            r.put("compression_ratio", ratio);
            if (timing != null) r.put("speedup", timing.get(0).latencyUsP50() / timing.get(1).latencyUsP50());
            r.put("sparsity", sparsityAfter);
            if (result.structure() != null) {
                r.put("units_removed", result.structure().unitsRemoved());
                r.put("structural_check_difference", result.structure().checkedDifference());
            }
            r.put("accuracy_drop_points", 100 * (before.accuracy() - after.accuracy()));
            r.put("layers", layers);
            r.put("epochs", ModelStats.epochs(result.epochs()));
            if (sens != null) r.put("sensitivity", sens);
            Reports.write(common.report, r);
        }
        return 0;
    }

    /** Each weighted layer: shape before and after, sparsity, and how the file stores it. */
    private static List<Object> printLayers(PrintStream o, Sequential before, Sequential after, SafeTensorsFile file) {
        List<Object> rows = new ArrayList<>();
        o.println();
        o.printf("%-3s %-16s %-16s %-16s %9s %-8s%n", "#", "layer", "weight before", "weight after", "sparsity", "stored");
        List<PrunableWeights> a = PrunableWeights.of(before), b = PrunableWeights.of(after);
        for (int i = 0; i < b.size(); i++) {
            PrunableWeights w = b.get(i);
            PrunableWeights v = i < a.size() ? a.get(i) : null;
            String name = w.index() + ".weight";
            String stored = ModelFile.storedFormat(file, name);
            String shapeBefore = v == null ? "-" : Arrays.toString(v.weight().value().shape()).replace(" ", "");
            String shapeAfter = Arrays.toString(w.weight().value().shape()).replace(" ", "");
            o.printf(Locale.ROOT, "%-3d %-16s %-16s %-16s %8.2f%% %-8s%n", w.index(), w.layer().spec(), shapeBefore, shapeAfter,
                    100 * w.sparsity(), stored);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", w.index());
            row.put("layer", w.layer().spec());
            if (v != null) row.put("shape_before", v.weight().value().shape());
            row.put("shape_after", w.weight().value().shape());
            row.put("sparsity", w.sparsity());
            row.put("format", stored);
            rows.add(row);
        }
        return rows;
    }

    private static List<Object> printSensitivity(PrintStream o, Sequential model, DataSplit split) throws BadInputException {
        double[] levels = {0.5, 0.7, 0.8, 0.9, 0.95};
        List<PruningSensitivity.Point> points = PruningSensitivity.scan(model, split.test(), levels);
        o.println();
        o.println("sensitivity: test accuracy with one layer magnitude-pruned (no fine-tuning)");
        StringBuilder head = new StringBuilder(String.format("%-3s %-16s", "#", "layer"));
        for (double s : levels) head.append(String.format(Locale.ROOT, " %8.0f%%", 100 * s));
        o.println(head);
        List<Object> rows = new ArrayList<>();
        for (int i = 0; i < points.size(); i += levels.length) {
            PruningSensitivity.Point p = points.get(i);
            StringBuilder line = new StringBuilder(String.format("%-3d %-16s", p.index(), p.layer()));
            for (int j = 0; j < levels.length; j++) {
                PruningSensitivity.Point q = points.get(i + j);
                line.append(String.format(Locale.ROOT, " %8.2f%%", 100 * q.accuracy()));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("index", q.index());
                row.put("layer", q.layer());
                row.put("sparsity", q.sparsity());
                row.put("accuracy", q.accuracy());
                rows.add(row);
            }
            o.println(line);
        }
        return rows;
    }

    private boolean isMagnitude() {
        return method.equals("magnitude");
    }

    private boolean isStructured() {
        return method.endsWith("-structured") || method.equals("bn-gamma");
    }

    private PruneConfig config() throws BadInputException {
        PruneConfig.Method m;
        int layer = -1;
        if (method.startsWith("remove-layer:")) {
            m = PruneConfig.Method.REMOVE_LAYER;
            try {
                layer = Integer.parseInt(method.substring("remove-layer:".length()));
            } catch (NumberFormatException e) {
                layer = -1;
            }
            if (layer < 0) throw new BadInputException("--method: remove-layer needs a layer index (see whittle inspect), got \"" + method + "\"");
        } else {
            m = switch (method) {
                case "magnitude" -> PruneConfig.Method.MAGNITUDE;
                case "2:4" -> PruneConfig.Method.NM_2_4;
                case "l1-structured" -> PruneConfig.Method.L1_STRUCTURED;
                case "l2-structured" -> PruneConfig.Method.L2_STRUCTURED;
                case "bn-gamma" -> PruneConfig.Method.BN_GAMMA;
                default -> throw new BadInputException("--method: must be magnitude, 2:4, l1-structured, l2-structured, bn-gamma or remove-layer:I, got \"" + method + "\"");
            };
        }
        if (!(sparsity >= 0 && sparsity < 1)) throw new BadInputException("--sparsity: must be in [0, 1), got " + sparsity);
        MagnitudePruning.Scope sc = switch (scope) {
            case "global" -> MagnitudePruning.Scope.GLOBAL;
            case "layer" -> MagnitudePruning.Scope.LAYER;
            default -> throw new BadInputException("--scope: must be layer or global, got \"" + scope + "\"");
        };
        PruneConfig.Schedule sch;
        int rounds = 1;
        if (schedule.equals("oneshot")) sch = PruneConfig.Schedule.ONESHOT;
        else if (schedule.equals("gradual")) sch = PruneConfig.Schedule.GRADUAL;
        else if (schedule.startsWith("iterative:")) {
            sch = PruneConfig.Schedule.ITERATIVE;
            try {
                rounds = Integer.parseInt(schedule.substring("iterative:".length()));
            } catch (NumberFormatException e) {
                rounds = 0;
            }
            if (rounds < 1 || rounds > 100) throw new BadInputException("--schedule: iterative:N needs N between 1 and 100, got \"" + schedule + "\"");
        } else {
            throw new BadInputException("--schedule: must be oneshot, iterative:N or gradual, got \"" + schedule + "\"");
        }
        if (m != PruneConfig.Method.MAGNITUDE) sch = PruneConfig.Schedule.ONESHOT;   // the others prune once, then fine-tune
        if (epochs < 0 || epochs > 10_000) throw new BadInputException("--finetune-epochs: must be between 0 and 10000, got " + epochs);
        if (sch == PruneConfig.Schedule.GRADUAL && epochs == 0) {
            throw new BadInputException("--schedule gradual prunes during fine-tuning: give --finetune-epochs 1 or more, or --schedule oneshot");
        }
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new BadInputException("--lr: must be a positive number, got " + lr);
        if (rewind && sch != PruneConfig.Schedule.ITERATIVE) throw new BadInputException("--rewind: applies to --schedule iterative:N");
        return new PruneConfig(m, sparsity, sc, sch, rounds, epochs, lr, rewind, layer, seed);
    }
}
