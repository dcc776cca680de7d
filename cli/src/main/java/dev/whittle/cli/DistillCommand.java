package dev.whittle.cli;

import dev.whittle.compress.distill.DistillConfig;
import dev.whittle.compress.distill.Distiller;
import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Model;
import dev.whittle.engine.io.InputNormalization;
import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainingListener;
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

/** {@code whittle distill}: train a small student from a trained teacher's soft outputs. */
@Command(name = "distill", mixinStandardHelpOptions = true,
        description = {"Train a small student model from a trained teacher's soft outputs.",
                "Hinton et al. 2015 soft targets, optional FitNets hints; saves the student and reports teacher, student and (with --baseline) the same student trained without the teacher."})
final class DistillCommand implements Callable<Integer> {

    @Option(names = "--teacher", paramLabel = "FILE", required = true, description = "The trained teacher (.safetensors; FP32 or quantized).")
    Path teacherPath;

    @Option(names = "--student-arch", paramLabel = "SPEC", required = true, description = "The student's architecture spec or preset.")
    String studentArch;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--train-subset", paramLabel = "N", description = "Train the student on the first N training images only.")
    Integer subset;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "4", description = "Softmax temperature (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "0.9", description = "Weight of the teacher term; 1 - A weighs the labels (default: ${DEFAULT-VALUE}).")
    float alpha;

    @Option(names = "--hint", paramLabel = "T:S:BETA", description = "FitNets hint: teacher layer T's output guides student layer S's through an adapter, weighted by BETA (repeatable).")
    List<String> hints = new ArrayList<>();

    @Option(names = "--epochs", paramLabel = "E", description = "Epochs over the (subset of the) training split (default: 10 unless --steps).")
    Integer epochs;

    @Option(names = "--steps", paramLabel = "S", description = "Optimizer steps instead of epochs.")
    Long steps;

    @Option(names = "--batch-size", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    float lr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the student's initialisation, shuffling and shifts (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--shift", paramLabel = "PIXELS", defaultValue = "0",
            description = "Shift each training image by up to PIXELS along each axis, anew at every step, the teacher labelling the shifted image;"
                    + " the --baseline student sees the same shifts (default: ${DEFAULT-VALUE}, none).")
    int shift;

    @Option(names = "--baseline", description = "Also train the same student from the same seed for the same steps without the teacher.")
    boolean baseline;

    @Option(names = "--no-cache", description = "Run the teacher at every step instead of caching its logits for the training set once.")
    boolean noCache;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to save the student (.safetensors).")
    Path out;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        int threads = common.begin();
        CommonOptions.checkOutputPath("--out", out);
        if (!(temperature > 0f) || Float.isInfinite(temperature)) throw new BadInputException("--temperature: must be positive, got " + temperature);
        if (!(alpha >= 0f && alpha <= 1f)) throw new BadInputException("--alpha: must be in [0, 1], got " + alpha);
        if (epochs != null && steps != null) throw new BadInputException("--epochs and --steps: give one or the other");
        if (epochs != null && (epochs < 0 || epochs > 100_000)) throw new BadInputException("--epochs: must be between 0 and 100000, got " + epochs);
        if (steps != null && (steps < 0 || steps > 100_000_000L)) throw new BadInputException("--steps: must be between 0 and 100000000, got " + steps);
        if (batchSize < 1 || batchSize > 1 << 20) throw new BadInputException("--batch-size: must be between 1 and 1048576, got " + batchSize);
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new BadInputException("--lr: must be a positive number, got " + lr);
        if (subset != null && subset < 1) throw new BadInputException("--train-subset: must be positive, got " + subset);
        if (shift < 0) throw new BadInputException("--shift: must be >= 0, got " + shift);
        List<DistillConfig.Hint> hintList = parseHints();
        ModelFile.Loaded loaded = ModelFile.load(teacherPath);
        data.defaultTo(loaded.metadata(), teacherPath);
        Model teacher = loaded.model();
        if (!hintList.isEmpty() && !(teacher instanceof Sequential)) {
            throw new BadInputException("--hint: " + teacherPath + " is quantized; hints need an FP32 teacher");
        }
        DataSplit split = data.open(seed);
        ModelStats.checkInputs(teacherPath, teacher, data.name, split.train().sampleShape());
        Dataset train = subset == null ? split.train() : split.train().first(subset);
        int[] shape = train.sampleShape();
        if (shift > 0 && (shape.length != 3 || shift >= shape[1] || shift >= shape[2])) {
            throw new BadInputException("--shift " + shift + ": needs images [C, H, W] larger than the shift; " + data.name + " has samples "
                    + Arrays.toString(shape));
        }
        Sequential student = ArchSpec.build(studentArch, train.sampleShape(), seed);
        if (!Arrays.equals(student.outputShape(), teacher.outputShape())) {
            throw new BadInputException("--student-arch \"" + studentArch + "\": the student outputs " + Arrays.toString(student.outputShape())
                    + " but the teacher " + Arrays.toString(teacher.outputShape()));
        }
        long totalSteps = steps != null ? steps : Distiller.stepsFor(epochs != null ? epochs : 10, train.size(), batchSize);
        DistillConfig config = new DistillConfig(temperature, alpha, hintList, totalSteps, batchSize, lr, seed, shift, !noCache);
        try {
            Distiller.checkHints(teacher, student, config);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--hint: " + e.getMessage().replaceFirst("^hint: ", ""));
        }
        PrintStream o = System.out;
        o.println("teacher  " + teacherPath + "  (" + teacher.arch() + ", " + String.format(Locale.ROOT, "%,d", teacher.parameterCount()) + " parameters)");
        o.println("student  " + studentArch + "  (" + String.format(Locale.ROOT, "%,d", student.parameterCount()) + " parameters)");
        o.println("data     " + data.name + ", " + train.size() + " training images" + (subset != null ? " (the first " + train.size() + ")" : "")
                + "; T " + temperature + ", alpha " + alpha + (shift > 0 ? ", shifts up to " + shift + " px" : "")
                + (hintList.isEmpty() ? "" : ", " + hintList.size() + " hint(s)") + "; "
                + totalSteps + " steps of " + batchSize + ", adam lr " + lr + ", seed " + seed + "; " + threads + " thread(s); " + Kernels.describe());
        Evaluation teacherEval = Evaluator.evaluate(teacher, split.test(), 256);
        long batchesPerEpoch = Math.max(1, Distiller.stepsFor(1, train.size(), batchSize));
        int shownEpochs = (int) ((totalSteps + batchesPerEpoch - 1) / batchesPerEpoch);
        // evaluating after every epoch would dominate runs of many short epochs (a small subset)
        Dataset perEpochTest = shownEpochs <= 30 ? split.test() : null;
        Progress.header(o);
        List<EpochStats> history;
        try {
            history = Distiller.fit(teacher, student, train, perEpochTest, config, new Progress(Math.max(1, shownEpochs)));
        } catch (Distiller.CacheTooLargeException e) {
            throw new BadInputException("teacher cache: " + e.getMessage() + " (--no-cache)");
        } catch (IllegalArgumentException e) {
            if (hintList.isEmpty()) throw e;
            throw new BadInputException("--hint: " + e.getMessage());
        }
        Evaluation studentEval = Evaluator.evaluate(student, split.test(), 256);
        Double scratch = null;
        if (baseline) {
            Sequential plain = ArchSpec.build(studentArch, train.sampleShape(), seed);
            Distiller.fit(teacher, plain, train, null, new DistillConfig(1f, 0f, List.of(), totalSteps, batchSize, lr, seed, shift, false),
                    TrainingListener.NONE);
            scratch = Evaluator.evaluate(plain, split.test(), 256).accuracy();
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(DataOptions.MODEL_DATASET_KEY, data.name);
        Datasets.inputNormalization(split.train()).ifPresent(n -> meta.put(InputNormalization.KEY, n.toJson()));
        meta.put("whittle.recipe", "distill --teacher " + teacherPath.getFileName() + " --student-arch " + studentArch
                + (subset != null ? " --train-subset " + subset : "") + " --temperature " + temperature + " --alpha " + alpha
                + (hints.isEmpty() ? "" : " --hint " + String.join(" --hint ", hints)) + " --steps " + totalSteps + " --batch-size " + batchSize
                + " --lr " + lr + " --seed " + seed + (shift > 0 ? " --shift " + shift : ""));
        meta.put("whittle.metrics", Json.write(Map.of("accuracy", studentEval.accuracy())));
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        ModelFile.save(student, out, meta);
        SafeTensorsFile written = SafeTensors.read(out);

        o.println();
        o.printf(Locale.ROOT, "teacher accuracy   %.2f%%  (%,d parameters, %,d bytes)%n", 100 * teacherEval.accuracy(), teacher.parameterCount(), loaded.fileBytes());
        o.printf(Locale.ROOT, "student accuracy   %.2f%%  (%,d parameters, %,d bytes)%n", 100 * studentEval.accuracy(), student.parameterCount(), written.fileBytes());
        if (scratch != null) {
            o.printf(Locale.ROOT, "scratch accuracy   %.2f%%  (the same student, seed and steps, labels only): distillation %+.2f points%n",
                    100 * scratch, 100 * (studentEval.accuracy() - scratch));
        }
        o.printf(Locale.ROOT, "saved %s (%,d bytes)%n", out, written.fileBytes());
        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "distill");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("teacher", teacherPath.toString());
            settings.put("student_arch", studentArch);
            settings.put("data", data.name);
            if (subset != null) settings.put("train_subset", subset);
            settings.put("temperature", temperature);
            settings.put("alpha", alpha);
            settings.put("hints", hints);
            settings.put("steps", totalSteps);
            settings.put("batch_size", batchSize);
            settings.put("lr", lr);
            settings.put("seed", seed);
            settings.put("shift", shift);
            settings.put("cache_teacher", !noCache);
            settings.put("threads", threads);
            settings.put("out", out.toString());
            r.put("settings", settings);
            r.put("teacher_accuracy", teacherEval.accuracy());
            r.put("baseline", ModelStats.of(teacher, teacherEval.accuracy(), loaded.fileBytes(), loaded.headerBytes()));
            r.put("final", ModelStats.of(student, studentEval.accuracy(), written.fileBytes(), written.headerBytes()));
            r.put("compression_ratio", (double) loaded.fileBytes() / written.fileBytes());
            if (scratch != null) r.put("scratch_accuracy", scratch);
            r.put("epochs", ModelStats.epochs(history));
            Reports.write(common.report, r);
        }
        return 0;
    }

    private List<DistillConfig.Hint> parseHints() throws BadInputException {
        List<DistillConfig.Hint> list = new ArrayList<>();
        for (String h : hints) {
            String[] p = h.split(":");
            try {
                if (p.length != 3) throw new NumberFormatException();
                float beta = Float.parseFloat(p[2]);
                int t = Integer.parseInt(p[0]), s = Integer.parseInt(p[1]);
                if (t < 0 || s < 0 || !(beta > 0f) || Float.isInfinite(beta)) throw new NumberFormatException();
                list.add(new DistillConfig.Hint(t, s, beta));
            } catch (NumberFormatException e) {
                throw new BadInputException("--hint: expected teacherLayer:studentLayer:beta (layer indices >= 0, beta > 0), got \"" + h + "\"");
            }
        }
        return list;
    }
}
