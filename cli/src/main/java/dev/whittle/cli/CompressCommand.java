package dev.whittle.cli;

import dev.whittle.compress.pipeline.CompressionPipeline;
import dev.whittle.compress.pipeline.Recipe;
import dev.whittle.compress.report.HtmlReport;
import dev.whittle.compress.report.LayerRow;
import dev.whittle.compress.report.MarkdownTable;
import dev.whittle.compress.report.StepMetrics;
import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.datasets.Sha256;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.TrainingListener;
import dev.whittle.kernels.Kernels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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

/** {@code whittle compress}: from a trained model to the smallest, fastest one within an accuracy budget, with the report. */
@Command(name = "compress", mixinStandardHelpOptions = true, usageHelpWidth = 120,
        description = {"Compress a trained model in steps under an accuracy budget.",
                "Distil into a smaller student (optional), prune (structured, then unstructured), share weights (k-means),",
                "quantize to integer kernels; a step that costs more validation accuracy than the budget allows backs off.",
                "Prints a table of what each step cost and saved; writes the model, a JSON report and an HTML page.",
                "A recipe file fixes every step's settings: one step a line, e.g.",
                "  prune sparsity=0.95 epochs=5",
                "  share clusters=16",
                "  quantize bits=8",
                "Steps and settings (defaults):",
                "  distill           student=SPEC epochs=10 temperature=2 alpha=0.5 lr=0.001",
                "  prune-structured  fraction=0.25 criterion=l1|l2|bn-gamma epochs=3 lr=0.001",
                "  prune             sparsity=0.9 scope=global|layer schedule=gradual|oneshot epochs=5 lr=0.001",
                "  recover           epochs=2 temperature=2 alpha=0.5 lr=0.0001   (distil from the original)",
                "  share             clusters=16 epochs=1 lr=0.001",
                "  quantize          bits=8|4 calibration=minmax samples=1000   (4: INT4 where the budget allows,",
                "                    the layers most sensitive to it INT8)",
                "  every step:       tries=N (back-offs allowed by the budget; 3, quantize 6)"})
final class CompressCommand implements Callable<Integer> {

    static final String MANIFEST_KEY = "whittle.manifest";

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The trained FP32 model (.safetensors).")
    Path modelPath;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--steps", paramLabel = "S,S", split = ",",
            description = "Steps with default settings: distill, prune (= prune-structured, prune-unstructured), recover, share, quantize"
                    + " (default: prune,share,quantize; distill first when --student-arch is given). Ignored with --recipe.")
    List<String> steps;

    @Option(names = "--recipe", paramLabel = "FILE", description = "A recipe file: every step and setting (see above).")
    Path recipeFile;

    @Option(names = "--max-accuracy-drop", paramLabel = "POINTS", defaultValue = "1.0",
            description = "The budget: validation accuracy may fall at most this many points below the original's (default: ${DEFAULT-VALUE}).")
    double maxDrop;

    @Option(names = "--student-arch", paramLabel = "SPEC", description = "The student of the distill step (an architecture spec).")
    String studentArch;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the validation split, fine-tuning and initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "200",
            description = "Timed runs per model at batch 1 and 64 after warm-up; 0 skips timing (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to save the compressed model (.safetensors).")
    Path out;

    @Option(names = "--html", paramLabel = "FILE.html", description = "Also write the report as a self-contained HTML page.")
    Path html;

    @Mixin
    CommonOptions common = new CommonOptions();

    /** What a run produced, for the demo to show. */
    record Result(CompressionPipeline.Outcome outcome, String outputSha256) {}

    @Override
    public Integer call() throws Exception {
        run(System.out);
        return 0;
    }

    Result run(PrintStream o) throws Exception {
        int threads = common.begin();
        CommonOptions.checkOutputPath("--out", out);
        CommonOptions.checkOutputPath("--html", html);
        if (!(maxDrop >= 0 && maxDrop <= 100)) throw new BadInputException("--max-accuracy-drop: must be between 0 and 100 points, got " + maxDrop);
        if (runs != 0 && (runs < 5 || runs > 1_000_000)) throw new BadInputException("--runs: must be 0 or between 5 and 1000000, got " + runs);
        Recipe recipe = recipe();
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        data.defaultTo(loaded.metadata(), modelPath);
        Sequential model = loaded.floatModel(modelPath);
        DataSplit split = data.open(seed);
        ModelStats.checkInputs(modelPath, model, data.name, split.train().sampleShape());
        checkStudents(recipe, model, split.train().sampleShape());

        Map<String, Object> manifest = manifest(recipe);
        Map<String, String> meta = new LinkedHashMap<>();
        for (String key : DataOptions.DATA_KEYS) {
            if (loaded.metadata().containsKey(key)) meta.put(key, loaded.metadata().get(key));
        }
        meta.put(MANIFEST_KEY, Json.write(manifest));

        o.println("model    " + modelPath + "  (" + model.arch() + ", " + String.format(Locale.ROOT, "%,d", model.parameterCount())
                + " parameters, " + String.format(Locale.ROOT, "%,d", loaded.fileBytes()) + " bytes)");
        o.println("data     " + data.name + ": " + split.train().size() + " training, " + split.test().size() + " test samples; "
                + threads + " thread(s); kernels: " + Kernels.describe());
        o.println("recipe   " + recipe.text().strip().replace("\n", "\n         "));
        CompressionPipeline.Settings settings = new CompressionPipeline.Settings(recipe, maxDrop, seed, runs, meta, out);
        CompressionPipeline.Outcome outcome = CompressionPipeline.run(model, modelPath, split.train(), split.test(), settings, log(o));

        String outputHash = SafeTensors.read(out).metadata().get(SafeTensors.SHA256_KEY);
        Map<String, Object> fullManifest = new LinkedHashMap<>(manifest);
        fullManifest.put("output_sha256", outputHash);
        List<StepMetrics> steps = outcome.steps();
        StepMetrics first = steps.get(0), last = steps.get(steps.size() - 1);
        o.println();
        o.print(MarkdownTable.render(steps));
        o.println();
        o.println("final model, per layer:");
        o.print(MarkdownTable.layers(last.layers()));
        o.println();
        o.printf(Locale.ROOT, "%s (%,d -> %,d bytes, header %,d), test accuracy %.2f%% -> %.2f%% (%+.2f points)",
                Reports.smaller((double) first.fileBytes() / last.fileBytes(), "%.1f"), first.fileBytes(), last.fileBytes(), last.headerBytes(),
                100 * first.accuracy(), 100 * last.accuracy(), 100 * (last.accuracy() - first.accuracy()));
        if (!Double.isNaN(last.latencyUsP50())) o.print(", " + Reports.faster(first.latencyUsP50() / last.latencyUsP50(), "%.2f") + " at batch 1");
        o.println();
        o.println("saved " + out + " (whittle.sha256 " + outputHash + ")");
        if (common.report != null) {
            Reports.write(common.report, report(steps, fullManifest, outcome, threads));
            o.println("report " + common.report);
        }
        if (html != null) {
            Reports.writeText(html, HtmlReport.render("whittle compress: " + modelPath.getFileName(), steps, fullManifest, maxDrop));
            o.println("html   " + html);
        }
        return new Result(outcome, outputHash);
    }

    /** Every distill step's student is built once now, so a wrong spec or class count fails before the baseline. */
    private void checkStudents(Recipe recipe, Sequential model, int[] sampleShape) throws BadInputException {
        for (Recipe.Step step : recipe.steps()) {
            if (!step.name().equals("distill")) continue;
            String spec = step.text("student").replace('_', ' ');
            Sequential student = ArchSpec.build(spec, sampleShape, seed);
            if (!Arrays.equals(student.outputShape(), model.outputShape())) {
                throw new BadInputException("distill student \"" + spec + "\": the student outputs " + Arrays.toString(student.outputShape())
                        + " but the model " + Arrays.toString(model.outputShape()));
            }
        }
    }

    private Recipe recipe() throws BadInputException {
        if (recipeFile != null) {
            if (steps != null) System.err.println("whittle: note: --steps is ignored when --recipe is given");
            String text;
            try {
                text = Files.readString(recipeFile, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new BadInputException("--recipe: " + recipeFile + " does not exist");
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new BadInputException("--recipe: " + recipeFile + " is not UTF-8 text (a recipe is one step a line; is it a model file?)", e);
            } catch (IOException e) {
                throw new BadInputException("--recipe: " + recipeFile + " cannot be read: " + e.getMessage(), e);
            }
            return Recipe.parse(text, recipeFile.toString());
        }
        List<String> names = steps;
        if (names == null) {
            names = new ArrayList<>();
            if (studentArch != null) names.add("distill");
            names.addAll(List.of("prune", "share", "quantize"));
        }
        return Recipe.ofSteps(names, studentArch);
    }

    /** What the output was made from, exactly: enough to make it again, bit for bit. */
    private Map<String, Object> manifest(Recipe recipe) throws BadInputException, IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("whittle_version", Main.VERSION);
        m.put("command", "compress");
        m.put("seed", seed);
        m.put("max_accuracy_drop", maxDrop);
        m.put("recipe", recipe.text());
        m.put("input_model", modelPath.getFileName().toString());
        m.put("input_model_sha256", Sha256.hex(modelPath));
        m.put("data", data.name);
        m.put("data_sha256", Datasets.sourceDigests(data.name, data.dir));
        return m;
    }

    private static CompressionPipeline.Log log(PrintStream o) {
        return new CompressionPipeline.Log() {
            @Override
            public void line(String text) {
                o.println(text);
                o.flush();
            }

            @Override
            public TrainingListener training(int epochs) {
                Progress bar = new Progress(epochs);
                return new TrainingListener() {
                    @Override
                    public void onBatch(int epoch, int batch, int batches) {
                        bar.onBatch(epoch, batch, batches);
                    }

                    @Override
                    public void onEpoch(EpochStats s) {
                        bar.clear();
                        o.printf(Locale.ROOT, "  epoch %d/%d  loss %.4f  train accuracy %.2f%%  %.1f s%n", s.epoch(), epochs, s.trainLoss(),
                                100 * s.trainAccuracy(), s.seconds());
                        o.flush();
                    }
                };
            }
        };
    }

    private Map<String, Object> report(List<StepMetrics> steps, Map<String, Object> manifest, CompressionPipeline.Outcome outcome, int threads) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("command", "compress");
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", modelPath.toString());
        s.put("data", data.name);
        s.put("recipe", recipeFile == null ? null : recipeFile.toString());
        s.put("steps", this.steps == null ? null : String.join(",", this.steps));
        s.put("max_accuracy_drop", maxDrop);
        s.put("student_arch", studentArch);
        s.put("seed", seed);
        s.put("runs", runs);
        s.put("threads", threads);
        s.put("out", out.toString());
        s.put("html", html == null ? null : html.toString());
        r.put("settings", s);
        StepMetrics first = steps.get(0), last = steps.get(steps.size() - 1);
        r.put("baseline", ModelStats.of(first));
        r.put("final", ModelStats.of(last));
        r.put("compression_ratio", (double) first.fileBytes() / last.fileBytes());
        if (!Double.isNaN(last.latencyUsP50())) r.put("speedup", first.latencyUsP50() / last.latencyUsP50());
        r.put("accuracy_drop_points", 100 * (first.accuracy() - last.accuracy()));
        r.put("validation_baseline_accuracy", outcome.baselineValidationAccuracy());
        r.put("validation_budget_accuracy", outcome.budgetAccuracy());
        List<Object> list = new ArrayList<>();
        for (StepMetrics m : steps) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", m.name());
            f.putAll(ModelStats.of(m));
            f.put("note", m.note());
            f.put("seconds", m.seconds());
            List<Object> layers = new ArrayList<>();
            for (LayerRow l : m.layers()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("index", l.index());
                x.put("layer", l.layer());
                x.put("shape", l.shape());
                x.put("bits", l.bits());
                x.put("clusters", l.clusters());
                x.put("sparsity", l.sparsity());
                x.put("format", l.format());
                x.put("bytes", l.bytes());
                layers.add(x);
            }
            f.put("layers", layers);
            list.add(f);
        }
        r.put("steps", list);
        r.put("manifest", manifest);
        return r;
    }
}
