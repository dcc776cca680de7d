package dev.whittle.cli;

import dev.whittle.compress.report.MarkdownTable;
import dev.whittle.compress.report.StepMetrics;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code whittle demo}: the zero-setup tour on the embedded mnist-10k digits. Each stage is a
 * real command run with its output in {@code demo.log}; the console gets one line per stage and
 * the table of what compression cost and saved.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The whole tour in about a minute, on the embedded mnist-10k digits.",
                "Trains a teacher, distils a smaller student, prunes it, shares its weights, quantizes it to integer kernels and picks a 10-per-class coreset; prints what each step cost and saved and writes an HTML report."})
final class DemoCommand implements Callable<Integer> {

    /** The recipe the demo compresses with: short fine-tuning, so the tour stays near a minute. */
    static final String RECIPE = """
            # whittle demo: lenet-300-100 (266,610 parameters) to an integer model a few kilobytes big
            distill  student=mlp(784,100,10) epochs=15 temperature=2 alpha=0.5
            prune    sparsity=0.9 schedule=gradual epochs=4
            share    clusters=16 epochs=1
            quantize bits=8 calibration=minmax samples=1000
            """;

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "out/demo",
            description = "Where the demo writes its models, reports and log (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "200",
            description = "Timed runs per model at batch 1 and 64 (default: ${DEFAULT-VALUE}).")
    int runs;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        int threads = common.begin();
        CommonOptions.checkOutputPath("--out-dir", outDir.resolve("demo.log"));
        // the compress step's rule, checked before the teacher is trained
        if (runs != 0 && (runs < 5 || runs > 1_000_000)) throw new BadInputException("--runs: must be 0 or between 5 and 1000000, got " + runs);
        Files.createDirectories(outDir);
        PrintStream console = System.out;
        Path logFile = outDir.resolve("demo.log");
        console.println("whittle demo: mnist-10k (8,000 training / 2,000 test digits, embedded), " + threads + " thread(s); full output in " + logFile);
        try (PrintStream log = new PrintStream(Files.newOutputStream(logFile), true, StandardCharsets.UTF_8)) {
            Path teacher = outDir.resolve("teacher.safetensors");
            long t = System.nanoTime();
            stage(console, "1/3", "train the teacher, lenet-300-100, 10 epochs");
            TrainCommand train = train(teacher);
            quietly(log, train);
            double teacherAccuracy = number(Json.parse(Files.readString(train.common.report)), "accuracy");
            done(console, String.format(Locale.ROOT, "%.2f%% test accuracy", 100 * teacherAccuracy), t);

            t = System.nanoTime();
            Path recipe = outDir.resolve("demo.recipe");
            Files.writeString(recipe, RECIPE, StandardCharsets.UTF_8);
            stage(console, "2/3", "compress: distil into mlp(784,100,10), prune, share 16 values a layer, quantize to INT8");
            CompressCommand compress = compress(teacher, recipe);
            CompressCommand.Result result = compress.run(log);
            done(console, "", t);

            t = System.nanoTime();
            stage(console, "3/3", "coreset: 10 digits per class by herding, against 10 at random (3 models each)");
            Path coresetDir = outDir.resolve("coreset");
            clearCoreset(coresetDir);
            CoresetCommand coreset = coreset(teacher, coresetDir);
            quietly(log, coreset);
            Object cs = Json.parse(Files.readString(coreset.common.report));
            done(console, String.format(Locale.ROOT, "herding %.2f%%, random %.2f%%", 100 * number(cs, "accuracy_mean"),
                    100 * number(cs, "random_accuracy_mean")), t);

            List<StepMetrics> steps = result.outcome().steps();
            StepMetrics first = steps.get(0), last = steps.get(steps.size() - 1);
            console.println();
            console.print(MarkdownTable.render(steps));
            console.println();
            console.printf(Locale.ROOT, "The compressed student is %.0fx smaller than the teacher's file (%,d bytes)", (double) first.fileBytes() / last.fileBytes(),
                    last.fileBytes());
            if (!Double.isNaN(last.latencyUsP50())) console.print(" and " + Reports.faster(first.latencyUsP50() / last.latencyUsP50(), "%.1f") + " at batch 1");
            console.printf(Locale.ROOT, ", at %+.2f points of test accuracy.%n", 100 * (last.accuracy() - first.accuracy()));
            console.printf(Locale.ROOT, "A model trained on 100 herded digits scores %.2f%% (random 100: %.2f%%; the teacher saw 8,000: %.2f%%).%n",
                    100 * number(cs, "accuracy_mean"), 100 * number(cs, "random_accuracy_mean"), 100 * teacherAccuracy);
            console.println();
            console.println("HTML report   " + compress.html);
            console.println("JSON report   " + compress.common.report);
            console.println("models        " + teacher + ", " + compress.out);
            console.println("coreset       " + coresetDir + " (grid.png shows the digits chosen)");
            console.println("next          ./whittle compress --help, and the README's sections on each technique");
            console.printf(Locale.ROOT, "demo finished in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    private TrainCommand train(Path out) {
        TrainCommand c = parse(new TrainCommand(), "--arch", "lenet-300-100", "--data", "mnist-10k", "--epochs", "10", "--seed", "0",
                "--out", out.toString(), "--report", outDir.resolve("teacher.json").toString());
        c.commandName = "demo";
        return c;
    }

    private CompressCommand compress(Path teacher, Path recipe) {
        return parse(new CompressCommand(), "--model", teacher.toString(), "--data", "mnist-10k", "--recipe", recipe.toString(),
                "--max-accuracy-drop", "1.0", "--seed", "0", "--runs", Integer.toString(runs),
                "--out", outDir.resolve("student-int8.safetensors").toString(), "--html", outDir.resolve("report.html").toString(),
                "--report", outDir.resolve("report.json").toString());
    }

    private CoresetCommand coreset(Path teacher, Path dir) {
        return parse(new CoresetCommand(), "--data", "mnist-10k", "--method", "herding", "--per-class", "10", "--embed-model", teacher.toString(),
                "--eval-arch", "mlp(784,100,10)", "--eval-runs", "3", "--eval-steps", "300", "--full-epochs", "0", "--seed", "0",
                "--out", dir.toString(), "--report", outDir.resolve("coreset.json").toString());
    }

    /** A stage's command with its options parsed as on the command line (so every default applies), at the demo's thread count. */
    private <T> T parse(T command, String... args) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
        if (common.threads != null) {
            all.add("--threads");
            all.add(common.threads.toString());
        }
        new picocli.CommandLine(command).parseArgs(all.toArray(new String[0]));
        return command;
    }

    /** Runs a command with its standard output going to the log. */
    private static void quietly(PrintStream log, Callable<Integer> command) throws Exception {
        PrintStream console = System.out;
        System.setOut(log);
        try {
            int code = command.call();
            if (code != 0) throw new IllegalStateException("a demo stage exited with " + code + "; see the log");
        } finally {
            System.setOut(console);
        }
    }

    /** The coreset command wants an empty folder: empty the one a previous demo wrote (and nothing else). */
    private static void clearCoreset(Path dir) throws IOException, BadInputException {
        if (!Files.isDirectory(dir)) return;
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                boolean ours = n.equals("grid.png") || n.equals("indices.txt") || n.startsWith("train-") || n.startsWith("t10k-");
                if (!ours) throw new BadInputException("--out-dir: " + dir + " holds " + n + ", which the demo did not write; move it or pick another --out-dir");
            }
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) Files.delete(p);
        }
    }

    private static double number(Object json, String key) {
        Object v = json instanceof Map<?, ?> m ? m.get(key) : null;
        if (!(v instanceof Number n)) throw new IllegalStateException("a demo stage's report has no number \"" + key + "\"");
        return n.doubleValue();
    }

    private static void stage(PrintStream o, String n, String what) {
        o.print("  " + n + "  " + what + " ... ");
        o.flush();
    }

    private static void done(PrintStream o, String result, long t0) {
        o.printf(Locale.ROOT, "%s%s(%.1f s)%n", result, result.isEmpty() ? "" : "  ", (System.nanoTime() - t0) / 1e9);
    }
}
