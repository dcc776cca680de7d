package dev.whittle.cli;

import static dev.whittle.cli.MainTest.assertRejected;
import static dev.whittle.cli.MainTest.number;
import static dev.whittle.cli.MainTest.readReport;
import static dev.whittle.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.kernels.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whittle distill} end to end on the embedded digits. */
class DistillCommandTest {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path teacher;
    static int threadsBefore;

    @BeforeAll
    static void trainTeacher() {
        threadsBefore = Parallel.threads();
        teacher = MainTest.trained(shared.resolve("teacher.safetensors"), "mlp(784,128,10)", 2);
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void distillReportsTeacherStudentAndScratch() throws IOException {
        Path out = dir.resolve("s.safetensors"), report = dir.resolve("d.json");
        MainTest.Run r = run("distill", "--teacher", teacher.toString(), "--student-arch", "mlp(784,16,10)", "--data", "mnist-10k",
                "--train-subset", "1000", "--steps", "150", "--baseline", "--hint", "2:2:0.5", "--out", out.toString(),
                "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> d = readReport(report);
        assertEquals("distill", d.get("command"));
        double teacherAcc = number(d, "teacher_accuracy"), scratch = number(d, "scratch_accuracy");
        Map<?, ?> base = (Map<?, ?>) d.get("baseline"), fin = (Map<?, ?>) d.get("final");
        assertEquals(teacherAcc, ((Number) base.get("accuracy")).doubleValue(), 0.0);
        assertTrue(((Number) fin.get("accuracy")).doubleValue() > 0.7 && scratch > 0.5, d.toString());
        assertTrue(((Number) fin.get("params")).longValue() < ((Number) base.get("params")).longValue());
        assertTrue(Files.size(out) < Files.size(teacher));
        assertTrue(r.out().contains("scratch accuracy"), r.out());
    }

    @Test
    void shiftsReachTheStudentAndItsScratchTwin() throws IOException {
        Path out = dir.resolve("s.safetensors"), report = dir.resolve("d.json");
        MainTest.Run r = run("distill", "--teacher", teacher.toString(), "--student-arch", "mlp(784,16,10)", "--data", "mnist-10k",
                "--train-subset", "1000", "--steps", "100", "--shift", "2", "--baseline", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> d = readReport(report);
        Map<?, ?> settings = (Map<?, ?>) d.get("settings");
        assertEquals(2, ((Number) settings.get("shift")).intValue());
        assertTrue(number(d, "scratch_accuracy") > 0.5, d.toString());
        assertTrue(r.out().contains("shifts up to 2 px"), r.out());
    }

    @Test
    void badOptionsAreRejected() {
        String[] base = {"distill", "--teacher", teacher.toString(), "--data", "mnist-10k", "--out", dir.resolve("x.safetensors").toString()};
        assertRejected("--temperature", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--temperature", "0"));
        assertRejected("--alpha", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--alpha", "2"));
        assertRejected("--epochs and --steps", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--epochs", "1", "--steps", "5"));
        assertRejected("--hint", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--hint", "1:2"));
        MainTest.Run hint = assertRejected("--hint: the teacher has no layer 9", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--hint", "9:1:1", "--steps", "1"));
        assertFalse(hint.out().contains("epoch"), "the hint was checked after the training header: " + hint.out());
        assertRejected("outputs", MainTest.concat(base, "--student-arch", "mlp(784,8,5)"));
        assertRejected("--train-subset", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--train-subset", "0"));
        assertRejected("--shift", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--shift", "-1"));
        assertRejected("--shift 28", MainTest.concat(base, "--student-arch", "mlp(784,8,10)", "--shift", "28"));
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }
}
