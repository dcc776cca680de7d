package dev.whittle.cli;

import dev.whittle.datasets.DataSplit;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle eval}: a saved model's accuracy, loss and confusion matrix on a test split. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a saved model on a dataset's test split.")
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file (.safetensors).")
    Path modelPath;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the csv: test split (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        int threads = common.begin();
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        data.defaultTo(loaded.metadata(), modelPath);
        DataSplit split = data.open(seed);
        ModelStats.checkInputs(modelPath, loaded.model(), data.name, split.test().sampleShape());
        if (loaded.model().outputShape()[0] < split.test().numClasses()) {
            throw new BadInputException(modelPath + ": the model has " + loaded.model().outputShape()[0] + " outputs but "
                    + data.name + " has " + split.test().numClasses() + " classes");
        }
        Evaluation eval = Evaluator.evaluate(loaded.model(), split.test(), 256);
        PrintStream o = System.out;
        o.println("model  " + modelPath + "  (" + loaded.model().arch() + ")");
        o.println("data   " + data.name + " test split, " + eval.count() + " samples");
        o.printf(Locale.ROOT, "accuracy  %.2f%%   loss  %.4f%n%n", 100 * eval.accuracy(), eval.meanLoss());
        printConfusion(o, eval.confusion());
        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "eval");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("model", modelPath.toString());
            settings.put("data", data.name);
            settings.put("threads", threads);
            r.put("settings", settings);
            r.putAll(ModelStats.of(loaded.model(), eval.accuracy(), loaded.fileBytes(), loaded.headerBytes()));
            r.put("test_loss", eval.meanLoss());
            r.put("samples", eval.count());
            r.put("confusion", eval.confusion());
            Reports.write(common.report, r);
        }
        return 0;
    }

    static void printConfusion(PrintStream o, int[][] confusion) {
        o.println("confusion matrix (rows: true class, columns: predicted)");
        StringBuilder head = new StringBuilder("      ");
        for (int j = 0; j < confusion.length; j++) head.append(String.format("%6d", j));
        o.println(head);
        for (int i = 0; i < confusion.length; i++) {
            StringBuilder row = new StringBuilder(String.format("%5d ", i));
            for (int v : confusion[i]) row.append(String.format("%6d", v));
            o.println(row);
        }
    }
}
