package dev.whittle.compress.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The distillation loss against finite differences, hints, and the loop against the plain trainer. */
class DistillationTest {

    static Tensor random(Rng rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) t.data()[i] = rng.uniform(-3f, 3f);
        return t;
    }

    @Test
    void theGradientMatchesFiniteDifferences() {
        Rng rng = new Rng(1);
        int batch = 3, classes = 5;
        for (float[] ta : new float[][] {{1f, 0.5f}, {4f, 0.9f}, {20f, 1f}, {2f, 0f}}) {
            DistillationLoss loss = new DistillationLoss(ta[0], ta[1]);
            Tensor s = random(rng, batch, classes), t = random(rng, batch, classes);
            int[] labels = {0, 3, 4};
            loss.forward(s, t.data(), 0, labels);
            float[] g = loss.backward().data().clone();
            double h = 1e-2;
            for (int i = 0; i < s.size(); i++) {
                float keep = s.data()[i];
                s.data()[i] = (float) (keep + h);
                double up = loss.forward(s, t.data(), 0, labels);
                s.data()[i] = (float) (keep - h);
                double down = loss.forward(s, t.data(), 0, labels);
                s.data()[i] = keep;
                double numeric = (up - down) / (2 * h);
                assertEquals(numeric, g[i], 2e-3 + 1e-2 * Math.abs(numeric), "T " + ta[0] + " alpha " + ta[1] + " element " + i);
            }
        }
    }

    @Test
    void aStudentEqualToItsTeacherGetsNoSoftGradient() {
        Rng rng = new Rng(2);
        Tensor s = random(rng, 4, 6);
        DistillationLoss loss = new DistillationLoss(3f, 1f);
        assertEquals(0f, loss.forward(s, s.data(), 0, new int[] {0, 1, 2, 3}), 1e-6);
        for (float v : loss.backward().data()) assertEquals(0f, v, 1e-7);
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0f, 0.5f));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(2f, 1.5f));
    }

    @Test
    void theHintGradientMatchesFiniteDifferences() {
        Rng rng = new Rng(3);
        FeatureHint hint = new FeatureHint(0, new int[] {4, 5, 5}, 0, new int[] {3, 5, 5}, 0.7f, rng);
        Tensor s = random(rng, 2, 3, 5, 5), t = random(rng, 2, 4, 5, 5);
        hint.forward(s, t);
        float[] g = hint.backward().data().clone();
        double h = 1e-2;
        for (int i = 0; i < s.size(); i += 7) {
            float keep = s.data()[i];
            s.data()[i] = (float) (keep + h);
            double up = hint.forward(s, t);
            s.data()[i] = (float) (keep - h);
            double down = hint.forward(s, t);
            s.data()[i] = keep;
            assertEquals((up - down) / (2 * h), g[i], 2e-3 + 1e-2 * Math.abs(g[i]), "element " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> new FeatureHint(0, new int[] {4, 5, 5}, 0, new int[] {3, 6, 6}, 1f, rng));
    }

    @Test
    void withoutATeacherTermTheLoopTrainsExactlyAsTheTrainer() throws Exception {
        DataSplit data = Datasets.open("mnist-10k", null, 0.2, 0);
        Sequential a = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Sequential b = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Trainer.fit(a, data.train(), null, TrainConfig.defaults().withEpochs(1).withSeed(7), TrainingListener.NONE);
        long steps = Distiller.stepsFor(1, data.train().size(), 128);
        Distiller.fit(a, b, data.train(), null, new DistillConfig(4f, 0f, List.of(), steps, 128, 1e-3f, 7, 0, true), TrainingListener.NONE);
        List<Parameter> pa = a.parameters(), pb = b.parameters();
        for (int i = 0; i < pa.size(); i++) assertTrue(pa.get(i).value().bitEquals(pb.get(i).value()), "parameter " + i);
    }

    @Test
    void distillingFromATrainedTeacherMovesTheStudentTowardsIt() throws Exception {
        DataSplit data = Datasets.open("mnist-10k", null, 0.2, 0);
        Sequential teacher = ArchSpec.build("mlp(784,64,10)", data.train().sampleShape(), 1);
        Trainer.fit(teacher, data.train(), null, TrainConfig.defaults().withEpochs(2), TrainingListener.NONE);
        Sequential student = ArchSpec.build("mlp(784,16,10)", data.train().sampleShape(), 2);
        Sequential hinted = ArchSpec.build("mlp(784,16,10)", data.train().sampleShape(), 2);
        long steps = 200;
        Distiller.fit(teacher, student, data.train(), null, new DistillConfig(4f, 1f, List.of(), steps, 128, 1e-3f, 0, 0, true), TrainingListener.NONE);
        Distiller.fit(teacher, hinted, data.train(), null, new DistillConfig(4f, 1f, List.of(new DistillConfig.Hint(2, 2, 1f)), steps, 128,
                1e-3f, 0, 0, false), TrainingListener.NONE);
        // agreement with the teacher's predictions on test digits
        for (Sequential s : List.of(student, hinted)) {
            int n = 500, agree = 0;
            int[] order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Tensor x = new dev.whittle.engine.train.Batch(data.test(), n).fill(data.test(), order, 0, n);
            float[] zt = teacher.forward(x, false).data().clone(), zs = s.forward(x, false).data();
            for (int i = 0; i < n; i++) {
                if (dev.whittle.engine.train.Evaluator.argmax(zt, i * 10, 10) == dev.whittle.engine.train.Evaluator.argmax(zs, i * 10, 10)) agree++;
            }
            assertTrue(agree > 0.85 * n, "the student agrees with the teacher on " + agree + " of " + n);
        }
    }
}
