package dev.whittle.cli;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.InputNormalization;
import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Profile;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.optim.LearningRateSchedule;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
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

/** {@code whittle train}: builds a model from a spec, trains it, evaluates it, optionally saves it. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a model from an architecture spec and evaluate it on the test split.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--arch", paramLabel = "SPEC", defaultValue = "lenet-300-100",
            description = "A preset (lenet-300-100, lenet5, lenet5-wide, convnet3(w)) or layer tokens such as "
                    + "'conv(6,5,pad=2) relu maxpool(2) flatten linear(10)' (default: ${DEFAULT-VALUE}).")
    String arch;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--epochs", defaultValue = "10", description = "Passes over the training split (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--optimizer", defaultValue = "adam", description = "sgd, adam or adamw (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    float momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum for SGD.")
    boolean nesterov;

    // no defaultValue: null tells "not given" (0.01 for adamw) from an explicit 0
    @Option(names = "--weight-decay", description = "L2 weight decay (decoupled for adamw; default: 0, or 0.01 for adamw).")
    Float weightDecay;

    @Option(names = "--schedule", defaultValue = "constant", description = "constant, cosine or step:N[:gamma] (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for initialisation, shuffling and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "FILE", description = "Save the trained model (.safetensors).")
    Path out;

    @Option(names = "--profile", description = "Time each layer's forward and backward pass and print where the training time went.")
    boolean profile;

    @Mixin
    CommonOptions common = new CommonOptions();

    /** Set by {@code demo}: the command name recorded in the report. */
    String commandName = "train";

    @Override
    public Integer call() throws Exception {
        int threads = common.begin();
        TrainConfig config = config();
        CommonOptions.checkOutputPath("--out", out);
        PrintStream o = System.out;
        DataSplit split = data.open(seed);
        Sequential model = ArchSpec.build(arch, split.train().sampleShape(), seed);
        checkClasses(model, split);
        o.println("model    " + arch + "  (" + String.format(Locale.ROOT, "%,d", model.parameterCount()) + " parameters)");
        o.println("data     " + data.name + "  (" + split.train().size() + " train / " + split.test().size() + " test, input "
                + Arrays.toString(split.train().sampleShape()) + ")");
        o.println("training " + config.epochs() + " epochs, " + optimizer + " lr " + lr + ", batch " + batchSize + ", seed " + seed
                + ", " + threads + " thread(s); kernels: " + Kernels.describe());
        Profile timing = profile ? new Profile(model.layers().size()) : null;
        model.setProfile(timing);
        Progress.header(o);
        List<EpochStats> history = Trainer.fit(model, split.train(), split.test(), config, new Progress(config.epochs()));
        model.setProfile(null);
        Evaluation eval = Evaluator.evaluate(model, split.test(), 256);
        List<Object> profileJson = timing == null ? null : printProfile(o, model, timing, history.size());

        Long fileBytes = null, headerBytes = null;
        if (out != null) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(DataOptions.MODEL_DATASET_KEY, data.name);
            Datasets.inputNormalization(split.train()).ifPresent(n -> meta.put(InputNormalization.KEY, n.toJson()));
            meta.put("whittle.recipe", "train --arch " + arch + " --epochs " + epochs + " --optimizer " + optimizer + " --lr " + lr
                    + " --batch-size " + batchSize + " --seed " + seed);
            meta.put("whittle.metrics", Json.write(Map.of("accuracy", eval.accuracy())));
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            ModelFile.save(model, out, meta);
            SafeTensorsFile written = SafeTensors.read(out);
            fileBytes = written.fileBytes();
            headerBytes = written.headerBytes();
        }
        o.println();
        o.printf(Locale.ROOT, "test accuracy  %.2f%%   test loss  %.4f   parameters  %,d%n", 100 * eval.accuracy(),
                eval.meanLoss(), model.parameterCount());
        if (out != null) o.printf(Locale.ROOT, "saved          %s  (%,d bytes, header %,d bytes)%n", out, fileBytes, headerBytes);

        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", commandName);
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("arch", arch);
            settings.put("data", data.name);
            settings.put("epochs", epochs);
            settings.put("batch_size", batchSize);
            settings.put("lr", lr);
            settings.put("optimizer", optimizer);
            settings.put("schedule", schedule);
            settings.put("weight_decay", config.weightDecay());
            settings.put("seed", seed);
            settings.put("threads", threads);
            if (out != null) settings.put("out", out.toString());
            r.put("settings", settings);
            r.putAll(ModelStats.of(model, eval.accuracy(), fileBytes, headerBytes));
            r.put("test_loss", eval.meanLoss());
            List<Object> secs = new ArrayList<>();
            for (EpochStats e : history) secs.add(e.seconds());
            r.put("epoch_seconds", secs);
            r.put("epochs", ModelStats.epochs(history));
            r.put("confusion", eval.confusion());
            if (profileJson != null) r.put("profile", profileJson);
            Reports.write(common.report, r);
        }
        return 0;
    }

    /** Prints per-layer training time (seconds per epoch, share) and returns it as report rows. */
    private static List<Object> printProfile(PrintStream o, Sequential model, Profile p, int epochs) {
        double total = p.totalNanos();
        double perEpoch = 1e9 * Math.max(1, epochs);
        List<Object> rows = new ArrayList<>();
        o.println();
        o.println("where the training time went (seconds per epoch, training steps only)");
        o.printf("%-3s %-20s %10s %10s %7s%n", "#", "step", "forward", "backward", "share");
        for (int i = 0; i < model.layers().size(); i++) {
            long f = p.forwardNanos(i), b = p.backwardNanos(i);
            String name = model.layers().get(i).spec();
            o.printf(Locale.ROOT, "%-3d %-20s %10.3f %10.3f %6.1f%%%n", i, name, f / perEpoch, b / perEpoch, 100 * (f + b) / total);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("layer", i);
            row.put("spec", name);
            row.put("forward_seconds_per_epoch", f / perEpoch);
            row.put("backward_seconds_per_epoch", b / perEpoch);
            rows.add(row);
        }
        for (Profile.Step step : Profile.Step.values()) {
            long t = p.nanos(step);
            String name = step.name().toLowerCase(Locale.ROOT);
            o.printf(Locale.ROOT, "%-3s %-20s %10.3f %10s %6.1f%%%n", "", name, t / perEpoch, "", 100 * t / total);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", name);
            row.put("seconds_per_epoch", t / perEpoch);
            rows.add(row);
        }
        o.printf(Locale.ROOT, "%-3s %-20s %10.3f%n", "", "total", total / perEpoch);
        return rows;
    }

    private TrainConfig config() throws BadInputException {
        if (epochs < 0 || epochs > 100_000) throw new BadInputException("--epochs: must be between 0 and 100000, got " + epochs);
        if (batchSize < 1 || batchSize > 1 << 20) throw new BadInputException("--batch-size: must be between 1 and 1048576, got " + batchSize);
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new BadInputException("--lr: must be a positive number, got " + lr);
        if (!(momentum >= 0f && momentum < 1f)) throw new BadInputException("--momentum: must be in [0, 1), got " + momentum);
        TrainConfig.OptimizerKind kind = switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "sgd" -> TrainConfig.OptimizerKind.SGD;
            case "adam" -> TrainConfig.OptimizerKind.ADAM;
            case "adamw" -> TrainConfig.OptimizerKind.ADAMW;
            default -> throw new BadInputException("--optimizer: unknown optimizer \"" + optimizer + "\"; use sgd, adam or adamw");
        };
        float wd = weightDecay != null ? weightDecay : kind == TrainConfig.OptimizerKind.ADAMW ? 0.01f : 0f;
        if (!(wd >= 0f) || Float.isInfinite(wd)) throw new BadInputException("--weight-decay: must be >= 0, got " + wd);
        if (nesterov && kind != TrainConfig.OptimizerKind.SGD) throw new BadInputException("--nesterov: only applies to --optimizer sgd");
        LearningRateSchedule sched = LearningRateSchedule.parse(schedule);
        return new TrainConfig(epochs, batchSize, lr, kind, kind == TrainConfig.OptimizerKind.SGD ? momentum : 0f, nesterov, wd, sched, seed);
    }

    private void checkClasses(Sequential model, DataSplit split) throws BadInputException {
        int[] outShape = model.outputShape();
        int classes = split.train().numClasses();
        if (outShape.length != 1 || outShape[0] != classes) {
            throw new BadInputException("--arch \"" + arch + "\": the model outputs " + Arrays.toString(outShape) + " but "
                    + data.name + " has " + classes + " classes; end the spec with linear(" + classes + ")");
        }
    }
}
