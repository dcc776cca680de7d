package dev.whittle.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.io.Json;
import dev.whittle.kernels.Parallel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code whittle} command end to end through {@link Main#run}: a real (tiny, one-epoch) model
 * trained on the embedded mnist-10k, then evaluated and inspected; and bad input of every kind
 * answered with exit code 2, a one-line reason, and no file written.
 */
class MainTest {

    /** 784*32 + 32 + 32*10 + 10. */
    static final long MLP_PARAMS = 25_450;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path model;
    static Map<String, Object> trainReport;
    static Run trainRun;
    static int threadsBefore;

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\\R"));
        }
    }

    /** Trains {@code arch} on the embedded digits for {@code epochs} into {@code out}, failing the test if {@code whittle train} does. */
    static Path trained(Path out, String arch, int epochs) {
        Run r = run("train", "--arch", arch, "--data", "mnist-10k", "--epochs", Integer.toString(epochs), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    /** Runs the command line with stdout and stderr captured. */
    static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            System.out.flush();
            System.err.flush();
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readReport(Path file) throws IOException {
        return (Map<String, Object>) Json.parse(Files.readString(file));
    }

    static double number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        assertTrue(v instanceof Number, key + " is not a number: " + v);
        return ((Number) v).doubleValue();
    }

    @BeforeAll
    static void trainOnce() throws IOException {
        threadsBefore = Parallel.threads();
        model = shared.resolve("models/mlp.safetensors"); // the parent folder does not exist yet
        Path report = shared.resolve("train.json");
        trainRun = run("train", "--arch", "mlp(784,32,10)", "--data", "mnist-10k", "--epochs", "1",
                "--out", model.toString(), "--report", report.toString());
        assertEquals(0, trainRun.code, trainRun.err);
        assertTrue(Files.isRegularFile(model), "model file not written");
        assertTrue(Files.isRegularFile(report), "report not written");
        trainReport = readReport(report);
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    // ---------------------------------------------------------------- train, eval, inspect

    @Test
    void trainReportHasTheDesignFields() throws IOException {
        Map<String, Object> r = trainReport;
        assertEquals("train", r.get("command"));
        double accuracy = number(r, "accuracy");
        // one epoch of a small MLP on 8,000 digits: clearly learnt, and a fraction, not a percentage
        assertTrue(accuracy > 0.8 && accuracy <= 1, "accuracy " + accuracy);
        assertEquals(MLP_PARAMS, number(r, "params"), 0.0);
        long fileBytes = (long) number(r, "file_bytes"), headerBytes = (long) number(r, "header_bytes");
        assertEquals(Files.size(model), fileBytes);
        // the 8-byte length, the header, and the parameters as F32
        assertEquals(8 + headerBytes + 4 * MLP_PARAMS, fileBytes);
        assertEquals(1, ((List<?>) r.get("epoch_seconds")).size());
        assertTrue(((Number) ((List<?>) r.get("epoch_seconds")).get(0)).doubleValue() >= 0);
        assertEquals(1, ((List<?>) r.get("epochs")).size());
        @SuppressWarnings("unchecked")
        Map<String, Object> settings = (Map<String, Object>) r.get("settings");
        assertEquals("mlp(784,32,10)", settings.get("arch"));
        assertEquals("mnist-10k", settings.get("data"));
        assertEquals(1L, settings.get("epochs"));
        assertEquals(128L, settings.get("batch_size"));
        assertEquals(0.001, number(settings, "lr"), 1e-9);
        assertEquals("adam", settings.get("optimizer"));
        assertEquals(0L, settings.get("seed"));
        // the confusion matrix counts the 2,000 test digits, and its diagonal is the accuracy
        List<?> confusion = (List<?>) r.get("confusion");
        assertEquals(10, confusion.size());
        long total = 0, diagonal = 0;
        for (int i = 0; i < 10; i++) {
            List<?> row = (List<?>) confusion.get(i);
            for (int j = 0; j < 10; j++) {
                long v = (Long) row.get(j);
                total += v;
                if (i == j) diagonal += v;
            }
        }
        assertEquals(2000, total);
        assertEquals(accuracy, diagonal / 2000.0, 1e-12);
        assertTrue(trainRun.out.contains(String.format(java.util.Locale.ROOT, "test accuracy  %.2f%%", 100 * accuracy)),
                trainRun.out);
    }

    @Test
    void evalReportsTheAccuracyTrainingReported() throws IOException {
        Path report = dir.resolve("eval.json");
        Run r = run("eval", "--model", model.toString(), "--data", "mnist-10k", "--report", report.toString());
        assertEquals(0, r.code, r.err);
        Map<String, Object> e = readReport(report);
        assertEquals("eval", e.get("command"));
        assertEquals(number(trainReport, "accuracy"), number(e, "accuracy"), 0.0);
        assertEquals(number(trainReport, "test_loss"), number(e, "test_loss"), 0.0);
        assertEquals(trainReport.get("confusion"), e.get("confusion"));
        assertEquals(MLP_PARAMS, number(e, "params"), 0.0);
        assertEquals(Files.size(model), number(e, "file_bytes"), 0.0);
        assertEquals(2000L, e.get("samples"));
        assertTrue(r.out.contains(String.format(java.util.Locale.ROOT, "accuracy  %.2f%%", 100 * number(e, "accuracy"))), r.out);
    }

    @Test
    void evalGivesTheSameAccuracyOnOneThread() throws IOException {
        Path report = dir.resolve("eval1.json");
        Run r = run("eval", "--model", model.toString(), "--threads", "1", "--report", report.toString());
        Parallel.setThreads(threadsBefore);
        assertEquals(0, r.code, r.err);
        assertEquals(number(trainReport, "accuracy"), number(readReport(report), "accuracy"), 0.0);
        assertEquals(number(trainReport, "test_loss"), number(readReport(report), "test_loss"), 0.0);
    }

    @Test
    void inspectListsLayersAndTotals() throws IOException {
        Path report = dir.resolve("inspect.json");
        Run r = run("inspect", "--model", model.toString(), "--report", report.toString());
        assertEquals(0, r.code, r.err);
        for (String s : new String[] {"mlp(784,32,10)", "flatten", "linear(32)", "relu", "linear(10)", "25,450",
                "[1, 28, 28]", String.format(java.util.Locale.ROOT, "%,d", Files.size(model))}) {
            assertTrue(r.out.contains(s), "inspect output lacks " + s + ":\n" + r.out);
        }
        String totalLine = r.out.lines().filter(l -> l.contains("total")).findFirst().orElseThrow();
        assertTrue(totalLine.contains("25,450") && totalLine.contains(String.format(java.util.Locale.ROOT, "%,d", 4 * MLP_PARAMS)),
                totalLine);
        Map<String, Object> i = readReport(report);
        assertEquals("inspect", i.get("command"));
        assertEquals(MLP_PARAMS, number(i, "params"), 0.0);
        List<?> layers = (List<?>) i.get("layers");
        List<Object> params = new ArrayList<>();
        for (Object l : layers) params.add(((Map<?, ?>) l).get("params"));
        assertEquals(List.of(0L, 784L * 32 + 32, 0L, 32L * 10 + 10), params);
        // flops: two per multiply-add of the linear layers, one per ReLU output
        assertEquals(2 * (784 * 32 + 32 * 10) + 32, (long) number(i, "flops"));
    }

    @Test
    void noArgumentsPrintsUsage() {
        Run r = run();
        assertEquals(0, r.code);
        for (String s : new String[] {"Usage: whittle", "train", "eval", "inspect"}) assertTrue(r.out.contains(s), r.out);
    }

    @Test
    void helpAndVersionExitZero() {
        Run help = run("train", "--help");
        assertEquals(0, help.code);
        for (String s : new String[] {"--arch", "--epochs", "--out", "--report", "--threads"}) assertTrue(help.out.contains(s), help.out);
        Run version = run("--version");
        assertEquals(0, version.code);
        assertTrue(version.out.startsWith("whittle "), version.out);
        // an unknown command is an error even with --help after it
        for (String[] args : new String[][] {{"foo"}, {"foo", "--help"}}) assertRejected("unknown command \"foo\"", args);
    }

    @Test
    void adamWKeepsAnExplicitZeroWeightDecay() throws IOException {
        Path explicit = dir.resolve("explicit.json"), defaulted = dir.resolve("default.json");
        Run a = run("train", "--arch", "mlp(784,10)", "--optimizer", "adamw", "--weight-decay", "0", "--epochs", "0",
                "--report", explicit.toString());
        Run b = run("train", "--arch", "mlp(784,10)", "--optimizer", "adamw", "--epochs", "0", "--report", defaulted.toString());
        assertEquals(0, a.code, a.err);
        assertEquals(0, b.code, b.err);
        assertEquals(0.0, number((Map<String, Object>) readReport(explicit).get("settings"), "weight_decay"), 0.0);
        assertEquals(0.01, number((Map<String, Object>) readReport(defaulted).get("settings"), "weight_decay"), 1e-9);
    }

    @Test
    void trainsOnACsvTableAndEvaluatesIt() throws IOException {
        Path csv = writeCsv(dir.resolve("t.csv"));
        Path out = dir.resolve("csv.safetensors"), report = dir.resolve("csv.json"), evalReport = dir.resolve("csv-eval.json");
        Run t = run("train", "--arch", "mlp(4,8,3)", "--data", "csv:" + csv, "--epochs", "20", "--batch-size", "8",
                "--lr", "0.05", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, t.code, t.err);
        Run e = run("eval", "--model", out.toString(), "--data", "csv:" + csv, "--report", evalReport.toString());
        assertEquals(0, e.code, e.err);
        double acc = number(readReport(report), "accuracy");
        assertEquals(acc, number(readReport(evalReport), "accuracy"), 0.0);
        assertTrue(acc > 0.9, "csv accuracy " + acc);
        // without --data, eval takes the data the file records it was trained on, and says so
        Path defaulted = dir.resolve("csv-eval-default.json");
        Run d = run("eval", "--model", out.toString(), "--report", defaulted.toString());
        assertEquals(0, d.code, d.err);
        assertTrue(d.err.contains("no --data given; using csv:" + csv), d.err);
        assertEquals(acc, number(readReport(defaulted), "accuracy"), 0.0);
    }

    /** 60 rows, 4 features, 3 well-separated classes (feature k is large for class k). */
    static Path writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("a,b,c,d,label\n");
        for (int i = 0; i < 60; i++) {
            int c = i % 3;
            double[] x = {0.1 * (i % 7), 0.1 * (i % 5), 0.1 * (i % 3), 0.05 * (i % 4)};
            x[c] += 3;
            sb.append(x[0]).append(',').append(x[1]).append(',').append(x[2]).append(',').append(x[3]).append(',').append(c).append('\n');
        }
        Files.writeString(file, sb.toString());
        return file;
    }

    // ---------------------------------------------------------------- bad input

    /**
     * Runs {@code args} with {@code --out} (for train) and {@code --report} in an empty folder and
     * checks the contract for bad input: exit 2, a one-line reason on stderr that mentions
     * {@code mention} (picocli's usage errors may add one "Try ... --help" line), nothing on
     * stderr that looks like a stack trace, and no file written.
     */
    Run assertBadInput(String mention, String... args) throws IOException {
        Path box = Files.createTempDirectory(dir, "bad");
        Path out = box.resolve("out.safetensors"), report = box.resolve("report.json");
        List<String> all = new ArrayList<>(List.of(args));
        if (args.length > 0 && args[0].equals("train")) all.addAll(List.of("--out", out.toString()));
        all.addAll(List.of("--report", report.toString()));
        Run r = assertRejected(mention, all.toArray(String[]::new));
        try (Stream<Path> left = Files.list(box)) {
            assertEquals(List.of(), left.toList(), "files written despite bad input: " + String.join(" ", args));
        }
        return r;
    }

    /** Exit 2 and a one-line reason mentioning {@code mention}, without a stack trace. */
    static Run assertRejected(String mention, String... args) {
        Run r = run(args);
        String what = String.join(" ", args) + "\nstderr: " + r.err;
        assertEquals(2, r.code, what);
        List<String> lines = r.errLines();
        assertFalse(lines.isEmpty(), what);
        assertTrue(lines.get(0).startsWith("whittle: "), what);
        assertTrue(lines.get(0).contains(mention), "reason does not mention \"" + mention + "\": " + what);
        assertTrue(lines.size() == 1 || (lines.size() == 2 && lines.get(1).startsWith("Try '")), "not one line: " + what);
        assertFalse(r.err.contains("Exception") || r.err.contains("\tat "), what);
        return r;
    }

    @Test
    void outputPathsThatCannotBeFilesAreRejectedBeforeTraining() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("folder"));
        Path plainFile = Files.writeString(dir.resolve("plain"), "x");
        String[] train = {"train", "--arch", "mlp(784,10)", "--epochs", "1"};
        Run r = assertRejected("is a directory", concat(train, "--out", folder.toString()));
        assertFalse(r.out.contains("epoch"), "trained before rejecting --out: " + r.out);
        assertRejected("--report", concat(train, "--report", folder.toString()));
        assertRejected("is not a directory", concat(train, "--out", plainFile.resolve("m.safetensors").toString()));
        assertRejected("--report", concat(train, "--out", dir.resolve("ok.safetensors").toString(),
                "--report", plainFile.resolve("sub/r.json").toString()));
        assertFalse(Files.exists(dir.resolve("ok.safetensors")), "model saved although the report cannot be");
        assertRejected("--report", "eval", "--model", model.toString(), "--report", folder.toString());
        assertRejected("--report", "inspect", "--model", model.toString(), "--report", folder.toString());
        try (Stream<Path> inFolder = Files.list(folder)) {
            assertEquals(List.of(), inFolder.toList());
        }
        assertEquals("x", Files.readString(plainFile));
    }

    @Test
    void outputsThatWouldOverwriteAnInputOrEachOtherAreRejected() throws IOException {
        Path copy = Files.copy(model, dir.resolve("copy.safetensors"));
        byte[] before = Files.readAllBytes(copy);
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), copy);
        assertRejected("is the --model file", "eval", "--model", copy.toString(), "--report", copy.toString());
        assertRejected("is the --model file", "inspect", "--model", copy.toString(), "--report", copy.toString());
        assertRejected("is the --model file", "prune", "--model", copy.toString(), "--out", copy.toString());
        assertRejected("is the --model file", "quantize", "--model", link.toString(), "--out", copy.toString());
        assertRejected("is the --model file", "quantize", "--model", dir.resolve(".").resolve("copy.safetensors").toString(),
                "--out", copy.toString());
        Path both = dir.resolve("both.safetensors");
        assertRejected("is also the", "train", "--arch", "mlp(784,10)", "--epochs", "1", "--out", both.toString(),
                "--report", both.toString());
        assertFalse(Files.exists(both));
        assertTrue(Arrays.equals(before, Files.readAllBytes(copy)), "the model file changed");
    }

    @Test
    void outputsWhereNoFileCanBeMadeAreRejectedBeforeTheWork() {
        // /proc takes no new files, whoever runs the tests (root included)
        Run r = assertRejected("cannot write in /proc", "train", "--arch", "mlp(784,10)", "--epochs", "1",
                "--out", "/proc/whittle-test/m.safetensors");
        assertFalse(r.out.contains("epoch"), "trained before rejecting --out: " + r.out);
        assertRejected("cannot write in /proc", "eval", "--model", model.toString(), "--report", "/proc/whittle-test.json");
    }

    static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void badTrainOptionsAreRejected() throws IOException {
        assertBadInput("--bogus", "train", "--bogus", "--epochs", "1");
        assertBadInput("--epochs", "train", "--epochs", "-1");
        assertBadInput("abc", "train", "--epochs", "abc");
        assertBadInput("--lr", "train", "--lr", "0");
        assertBadInput("--lr", "train", "--lr", "NaN");
        assertBadInput("--lr", "train", "--lr", "Infinity");
        assertBadInput("--optimizer", "train", "--optimizer", "foo");
        assertBadInput("--threads", "train", "--threads", "0");
        assertBadInput("--batch-size", "train", "--batch-size", "0");
        assertBadInput("--momentum", "train", "--optimizer", "sgd", "--momentum", "1");
        assertBadInput("--nesterov", "train", "--nesterov");
        assertBadInput("--weight-decay", "train", "--weight-decay", "-0.1");
        assertBadInput("--schedule", "train", "--schedule", "warmup");
        assertBadInput("--schedule", "train", "--schedule", "step:2:-0.5");
    }

    @Test
    void badArchitecturesAreRejected() throws IOException {
        assertBadInput("unknown layer 'foo'", "train", "--arch", "flatten foo(3) linear(10)", "--epochs", "1");
        assertBadInput("784", "train", "--arch", "mlp(100,10)", "--epochs", "1");
        assertBadInput("10 classes", "train", "--arch", "mlp(784,32,5)", "--epochs", "1");
        assertBadInput("flatten", "train", "--arch", "linear(10)", "--epochs", "1");
        assertBadInput("unclosed", "train", "--arch", "conv(4,3 relu", "--epochs", "1");
    }

    @Test
    void batchNormTrainsWhenTheLastBatchWouldHoldOneSample() throws IOException {
        // mnist-10k trains on 8,000 digits: batches of 7,999 leave one sample, from which batch
        // norm cannot take statistics; the trainer drops it rather than fail after an epoch's work
        Path report = dir.resolve("bn.json");
        Run r = run("train", "--arch", "flatten linear(16) bn relu linear(10)", "--batch-size", "7999", "--epochs", "1",
                "--report", report.toString());
        assertEquals(0, r.code, r.err);
        double accuracy = number(readReport(report), "accuracy");
        assertTrue(accuracy > 0 && accuracy <= 1, "accuracy " + accuracy);
    }

    @Test
    void badDataIsRejected() throws IOException {
        assertBadInput("nosuch", "train", "--arch", "mlp(784,10)", "--data", "nosuch", "--epochs", "1");
        assertBadInput("no such file", "train", "--arch", "mlp(4,3)", "--data", "csv:" + dir.resolve("absent.csv"));
        Path csv = writeCsv(dir.resolve("t.csv"));
        assertBadInput("test fraction", "train", "--arch", "mlp(4,3)", "--data", "csv:" + csv, "--test-fraction", "1.5");
    }

    @Test
    void evalOfAMissingModelIsRejected() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        assertBadInput(missing.toString(), "eval", "--model", missing.toString());
        assertBadInput("--model", "eval");
        assertBadInput(missing.toString(), "inspect", "--model", missing.toString());
    }

    @Test
    void truncatedModelIsRejected() throws IOException {
        byte[] bytes = Files.readAllBytes(model);
        for (int keep : new int[] {4, 100, bytes.length - 1}) {
            Path cut = dir.resolve("cut" + keep + ".safetensors");
            Files.write(cut, Arrays.copyOf(bytes, keep));
            assertBadInput(cut.toString(), "eval", "--model", cut.toString());
            assertBadInput(cut.toString(), "inspect", "--model", cut.toString());
        }
    }

    @Test
    void modelWithAFlippedDataByteIsRejected() throws IOException {
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length - 1000] ^= 0x01;
        Path flipped = dir.resolve("flipped.safetensors");
        Files.write(flipped, bytes);
        Run r = assertBadInput("checksum", "eval", "--model", flipped.toString());
        assertTrue(r.err.contains(flipped.toString()), r.err);
        assertBadInput("checksum", "inspect", "--model", flipped.toString());
    }

    @Test
    void modelAndDataOfDifferentShapesAreRejected() throws IOException {
        Path csv = writeCsv(dir.resolve("t.csv"));
        assertBadInput("[1, 28, 28]", "eval", "--model", model.toString(), "--data", "csv:" + csv);
    }

    @Test
    void benchKernelsRejectsBadRoundsAndAPatternThatMatchesNothing() {
        Run r = run("bench", "kernels", "--rounds", "0");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("--rounds") && r.err().contains("got 0"), r.err());
        r = run("bench", "kernels", "--only", "sgemm4");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("--only") && r.err().contains("'sgemm4'"), r.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void benchKernelsTimesOnlyTheCasesAskedInTheRoundsAsked() throws IOException {
        Path report = dir.resolve("kernels.json");
        Run r = run("bench", "kernels", "--threads", "1", "--only", "lenet5 fc3 forward", "--rounds", "2", "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> json = readReport(report);
        assertEquals(2L, ((Map<String, Object>) json.get("settings")).get("rounds"));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) json.get("results");
        assertEquals(1, rows.size(), rows.toString());
        assertEquals("128x10x84", rows.get(0).get("m") + "x" + rows.get(0).get("n") + "x" + rows.get(0).get("k"));
        assertTrue(((Number) rows.get(0).get("gflops")).doubleValue() > 0, rows.toString());
        assertTrue(r.out().contains("lenet5 fc3 forward"), r.out());
    }
}
