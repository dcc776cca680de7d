package dev.whittle.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.SoftmaxCrossEntropy;
import dev.whittle.engine.optim.LearningRateSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN.md: the same seed gives bit-identical model tensors. That must hold whether or not the
 * JIT has compiled the kernels yet: a JVM limited to C1 (which runs the Vector API's Java
 * fallback) must train exactly the weights a warmed-up JVM (C2 intrinsics) trains. A kernel whose
 * result depends on the compiler makes a run's result depend on timing, and so on the thread
 * count and on what ran before it.
 */
class CompilerIndependenceTest {

    private static final String SPEC = "flatten linear(16) relu linear(3)";

    @TempDir
    Path dir;

    static Sequential train() throws BadInputException {
        ArrayDataset data = ArrayDataset.bars(96, 8, 21);
        Sequential model = ArchSpec.build(SPEC, data.sampleShape(), 0);
        TrainConfig c = new TrainConfig(2, 16, 0.01f, TrainConfig.OptimizerKind.ADAM, 0f, false, 0f,
                LearningRateSchedule.constant(), 4);
        Trainer.fit(model, data, null, c, TrainingListener.NONE);
        return model;
    }

    /** Run in the child JVM: trains and saves to {@code args[0]}. */
    public static void main(String[] args) throws Exception {
        ModelFile.save(train(), Path.of(args[0]), Map.of());
    }

    @Test
    void trainingGivesTheSameBitsBeforeAndAfterJitCompilation() throws Exception {
        Path file = dir.resolve("c1.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), CompilerIndependenceTest.class.getName(), file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the C1-only JVM did not finish in 120 s");
        }
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.log")));

        // warm the loss (and its softmax kernel) up until C2 has surely compiled it
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        Tensor logits = new Tensor(new float[16 * 3], 16, 3);
        int[] labels = new int[16];
        for (int i = 0; i < logits.size(); i++) logits.data()[i] = (i * 0.37f) % 5 - 2;
        for (int it = 0; it < 30_000; it++) {
            loss.forward(logits, labels);
            loss.backward();
        }
        Sequential hot = train();
        Sequential cold = ((Sequential) ModelFile.load(file).model());
        List<String> differing = hot.stateDict().stream()
                .filter(t -> !t.tensor().bitEquals(cold.stateDict().stream().filter(c -> c.name().equals(t.name())).findFirst()
                        .orElseThrow().tensor()))
                .map(t -> t.name()).toList();
        assertEquals(List.of(), differing, "tensors that differ between a C1-only JVM and a warmed-up one");
    }
}
