package dev.whittle.cli;

import static dev.whittle.cli.MainTest.assertRejected;
import static dev.whittle.cli.MainTest.concat;
import static dev.whittle.cli.MainTest.number;
import static dev.whittle.cli.MainTest.readReport;
import static dev.whittle.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.compress.coreset.PixelScale;
import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.kernels.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whittle coreset} end to end on the embedded digits, with a small MLP so it stays quick. */
class CoresetCommandTest {

    static final String[] QUICK_EVAL = {"--eval-arch", "mlp(784,32,10)", "--eval-runs", "2", "--eval-steps", "40", "--full-epochs", "0"};

    @TempDir
    Path dir;

    static int threadsBefore;

    @BeforeAll
    static void rememberThreads() {
        threadsBefore = Parallel.threads();
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    static PixelScale scaleOf(Dataset d) {
        double[] ms = Datasets.pixelMeanStd(d).orElseThrow();
        return new PixelScale(ms[0], ms[1]);
    }

    @Test
    void herdingWritesADatasetThatReadsBackAsTheChosenImages() throws IOException, BadInputException {
        Path out = dir.resolve("core"), report = dir.resolve("c.json");
        MainTest.Run r = run(concat(new String[] {"coreset", "--data", "mnist-10k", "--method", "herding", "--space", "pixel",
                "--per-class", "3", "--out", out.toString(), "--report", report.toString()}, QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        Map<String, Object> c = readReport(report);
        assertEquals("coreset", c.get("command"));
        assertEquals("herding", c.get("method"));
        assertEquals(3, ((Number) c.get("per_class")).intValue());
        for (String k : List.of("accuracy_mean", "accuracy_std", "random_accuracy_mean", "random_accuracy_std", "seconds")) {
            assertTrue(c.containsKey(k), k);
        }
        assertTrue(number(c, "accuracy_mean") > 0.3 && number(c, "random_accuracy_mean") > 0.3, c.toString());
        assertNull(c.get("full_accuracy"));
        assertTrue(((Map<?, ?>) c.get("settings")).containsKey("eval_steps"));

        DataSplit original = Datasets.open("mnist-10k", null, 0.2, 0);
        DataSplit back = Datasets.open("idx:" + out, null, 0.2, 0);
        assertEquals(30, back.train().size());
        assertEquals(original.test().size(), back.test().size());
        List<String> lines = Files.readAllLines(out.resolve("indices.txt"));
        assertEquals(30, lines.size());
        PixelScale was = scaleOf(original.train()), now = scaleOf(back.train());
        float[] a = new float[784], b = new float[784];
        for (int i = 0; i < 30; i++) {
            int idx = Integer.parseInt(lines.get(i));
            assertEquals(original.train().label(idx), back.train().label(i));
            assertEquals(i / 3, back.train().label(i), "grouped by class");
            original.train().sample(idx, a, 0);
            back.train().sample(i, b, 0);
            assertArrayEquals(was.toBytes(a), now.toBytes(b), "image " + i);
        }
        for (int i = 0; i < 2000; i += 97) {
            assertEquals(original.test().label(i), back.test().label(i));
            original.test().sample(i, a, 0);
            back.test().sample(i, b, 0);
            assertArrayEquals(was.toBytes(a), scaleOf(back.test()).toBytes(b));
        }
        byte[] png = Files.readAllBytes(out.resolve("grid.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(r.out().contains("random"), r.out());
        try (var s = Files.list(dir)) {
            assertEquals(List.of("c.json", "core"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary folder left");
        }
    }

    @Test
    void distributionMatchingWritesSyntheticImages() throws IOException, BadInputException {
        Path out = dir.resolve("dm"), report = dir.resolve("dm.json");
        MainTest.Run r = run(concat(new String[] {"coreset", "--data", "mnist-10k", "--method", "dm", "--per-class", "1",
                "--dm-iterations", "3", "--dm-width", "4", "--dm-batch", "8", "--out", out.toString(), "--report", report.toString()}, QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(out.resolve("indices.txt")), "synthetic images have no indices");
        assertTrue(Files.exists(out.resolve("grid.png")));
        DataSplit back = Datasets.open("idx:" + out, null, 0.2, 0);
        assertEquals(10, back.train().size());
        Map<String, Object> c = readReport(report);
        assertEquals(3, ((Number) ((Map<?, ?>) c.get("settings")).get("dm_iterations")).intValue());
        assertTrue(c.containsKey("dm_last_loss"));
    }

    @Test
    void noCompareRandomLeavesTheRandomFiguresEmpty() throws IOException {
        Path out = dir.resolve("k"), report = dir.resolve("k.json");
        MainTest.Run r = run(concat(new String[] {"coreset", "--data", "mnist-10k", "--method", "kcenter", "--space", "pixel", "--per-class", "2",
                "--no-compare-random", "--out", out.toString(), "--report", report.toString()}, QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        Map<String, Object> c = readReport(report);
        assertEquals(false, ((Map<?, ?>) c.get("settings")).get("compare_random"));
        assertTrue(c.containsKey("random_accuracy_mean") && c.containsKey("random_accuracy_std"), "present, and null");
        assertNull(c.get("random_accuracy_mean"));
        assertNull(c.get("random_accuracy_std"));
        assertNull(c.get("random_accuracies"));
        assertTrue(number(c, "accuracy_mean") > 0.2, c.toString());
        assertFalse(r.out().contains("training on random subsets"), r.out());
    }

    @Test
    void scoresOfOneRunChooseTheSameImagesInTheNext() throws IOException, BadInputException {
        String[] el2n = {"coreset", "--data", "mnist-10k", "--method", "el2n", "--no-compare-random"};
        Path first = dir.resolve("first"), again = dir.resolve("again"), more = dir.resolve("more"), report = dir.resolve("again.json");
        MainTest.Run r = run(concat(concat(el2n, "--per-class", "2", "--score-epochs", "1", "--score-seeds", "1", "--out", first.toString()), QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        List<String> scores = Files.readAllLines(first.resolve("scores.txt"));
        int n = Datasets.open("mnist-10k", null, 0.2, 0).train().size();
        assertEquals(n, scores.size());
        for (String s : scores) assertTrue(Double.parseDouble(s) >= 0 && Double.parseDouble(s) <= Math.sqrt(2) + 1e-9, s);

        Path file = first.resolve("scores.txt");
        r = run(concat(concat(el2n, "--per-class", "2", "--scores", file.toString(), "--out", again.toString(), "--report", report.toString()), QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readAllLines(first.resolve("indices.txt")), Files.readAllLines(again.resolve("indices.txt")));
        assertEquals(scores, Files.readAllLines(again.resolve("scores.txt")), "written back unchanged");
        Map<?, ?> settings = (Map<?, ?>) readReport(report).get("settings");
        assertEquals(file.toString(), settings.get("scores"));
        assertFalse(settings.containsKey("score_epochs"), "no scoring model was trained");

        // a larger budget keeps the smaller one's images: each class's from the highest score down
        r = run(concat(concat(el2n, "--per-class", "4", "--scores", file.toString(), "--out", more.toString()), QUICK_EVAL));
        assertEquals(0, r.code(), r.err());
        List<String> two = Files.readAllLines(first.resolve("indices.txt")), four = Files.readAllLines(more.resolve("indices.txt"));
        for (int c = 0; c < 10; c++) assertEquals(two.subList(2 * c, 2 * c + 2), four.subList(4 * c, 4 * c + 2), "class " + c);
    }

    @Test
    void badScoreFilesAreRejected() throws IOException, BadInputException {
        Path out = dir.resolve("never");
        String[] base = {"coreset", "--data", "mnist-10k", "--per-class", "2", "--out", out.toString()};
        int n = Datasets.open("mnist-10k", null, 0.2, 0).train().size();
        Path shortFile = Files.writeString(dir.resolve("short.txt"), "0.5\n0.25\n");
        Path bad = Files.writeString(dir.resolve("bad.txt"), "0.5\n".repeat(n - 1) + "x\n");
        Path negative = Files.writeString(dir.resolve("negative.txt"), "-1.0\n" + "0.5\n".repeat(n - 1));
        assertRejected("--scores", concat(base, "--method", "herding", "--scores", shortFile.toString()));
        assertRejected("--score-epochs", concat(base, "--method", "el2n", "--scores", shortFile.toString(), "--score-epochs", "2"));
        assertRejected("2 lines", concat(base, "--method", "el2n", "--scores", shortFile.toString()));
        assertRejected("line " + n, concat(base, "--method", "forgetting", "--scores", bad.toString()));
        assertRejected("line 1", concat(base, "--method", "el2n", "--scores", negative.toString()));
        assertRejected("no such file", concat(base, "--method", "el2n", "--scores", dir.resolve("missing.txt").toString()));
        assertFalse(Files.exists(out), "nothing written on bad input");
    }

    @Test
    void badOptionsAreRejected() throws IOException {
        Path out = dir.resolve("never");
        String[] base = {"coreset", "--data", "mnist-10k", "--out", out.toString()};
        assertRejected("--per-class or --fraction", concat(base, "--method", "random"));
        assertRejected("--per-class or --fraction", concat(base, "--method", "random", "--per-class", "2", "--fraction", "0.1"));
        assertRejected("--per-class", concat(base, "--method", "random", "--per-class", "0"));
        assertRejected("--fraction", concat(base, "--method", "random", "--fraction", "1.5"));
        assertRejected("--method", concat(base, "--method", "bogus", "--per-class", "2"));
        assertRejected("--space", concat(base, "--method", "random", "--per-class", "2", "--space", "pixel"));
        assertRejected("--space", concat(base, "--method", "herding", "--per-class", "2", "--space", "colour"));
        assertRejected("--embed-model", concat(base, "--method", "kcenter", "--per-class", "2", "--space", "pixel", "--embed-model", "m.safetensors"));
        assertRejected("--eval-runs", concat(base, "--method", "random", "--per-class", "2", "--eval-runs", "0"));
        assertRejected("--eval-steps", concat(base, "--method", "random", "--per-class", "2", "--eval-steps", "0"));
        assertRejected("--eval-arch", concat(base, "--method", "random", "--per-class", "2", "--eval-arch", "mlp(784,8,5)"));
        assertRejected("--eval-arch", concat(base, "--method", "random", "--per-class", "2", "--eval-arch", "nonsense(3)"));
        assertRejected("--dm-", concat(base, "--method", "herding", "--per-class", "2", "--dm-iterations", "5"));
        assertRejected("--dm-width", concat(base, "--method", "dm", "--per-class", "2", "--dm-width", "0"));
        assertRejected("--embed-model", concat(base, "--method", "herding", "--per-class", "2", "--embed-model", dir.resolve("missing.safetensors").toString()));
        assertRejected("--dm-lr", concat(concat(base, "--method", "dm", "--per-class", "1", "--dm-width", "4", "--dm-batch", "8",
                "--dm-iterations", "30", "--dm-lr", "1e30"), QUICK_EVAL));
        assertFalse(Files.exists(out), "nothing written on bad input");
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertRejected("--out", "coreset", "--method", "random", "--per-class", "2", "--out", file.toString());
        Path full = Files.createDirectory(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "mine");
        assertRejected("not empty", "coreset", "--method", "random", "--per-class", "2", "--out", full.toString());
        assertEquals("mine", Files.readString(full.resolve("keep.txt")));
    }
}
