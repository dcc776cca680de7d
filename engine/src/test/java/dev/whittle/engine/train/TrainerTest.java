package dev.whittle.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.optim.LearningRateSchedule;
import dev.whittle.kernels.Parallel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    static TrainConfig config(TrainConfig.OptimizerKind kind, int epochs, int batch, float lr, long seed) {
        return new TrainConfig(epochs, batch, lr, kind, kind == TrainConfig.OptimizerKind.SGD ? 0.9f : 0f, false, 0f,
                LearningRateSchedule.constant(), seed);
    }

    /** Whether two models' state dicts have the same names, shapes and bits. */
    static boolean sameState(Sequential a, Sequential b) {
        List<NamedTensor> sa = a.stateDict(), sb = b.stateDict();
        if (sa.size() != sb.size()) return false;
        for (int i = 0; i < sa.size(); i++) {
            if (!sa.get(i).name().equals(sb.get(i).name()) || !sa.get(i).tensor().bitEquals(sb.get(i).tensor())) return false;
        }
        return true;
    }

    @Test
    void mlpLearnsThreeRings() throws BadInputException {
        ArrayDataset train = ArrayDataset.rings(900, 1), test = ArrayDataset.rings(300, 2);
        Sequential model = ArchSpec.build("mlp(2,32,3)", train.sampleShape(), 0);
        List<EpochStats> history = Trainer.fit(model, train, test, config(TrainConfig.OptimizerKind.ADAM, 40, 32, 0.01f, 0),
                TrainingListener.NONE);
        Evaluation eval = Evaluator.evaluate(model, test, 64);
        assertTrue(eval.accuracy() > 0.95, "test accuracy " + eval.accuracy());
        assertEquals(eval.accuracy(), history.getLast().testAccuracy());
        // no linear model separates rings: the first epoch, still close to linear, is far worse
        assertTrue(history.getFirst().trainLoss() > history.getLast().trainLoss());
    }

    @Test
    void sgdWithMomentumLearnsBars() throws BadInputException {
        ArrayDataset train = ArrayDataset.bars(400, 8, 1), test = ArrayDataset.bars(150, 8, 2);
        Sequential model = ArchSpec.build("flatten linear(32) relu linear(3)", train.sampleShape(), 0);
        Trainer.fit(model, train, null, config(TrainConfig.OptimizerKind.SGD, 15, 20, 0.02f, 0), TrainingListener.NONE);
        double accuracy = Evaluator.evaluate(model, test, 50).accuracy();
        assertTrue(accuracy > 0.95, "test accuracy " + accuracy);
    }

    /** Trains {@code spec} from seed 0 with {@code threads} kernel threads; returns the model and its history. */
    private static Sequential trainWithThreads(String spec, TrainConfig.OptimizerKind kind, int threads, List<EpochStats> history)
            throws BadInputException {
        // 203 samples in batches of 40: five full batches and a partial one of 3
        ArrayDataset train = ArrayDataset.bars(203, 12, 7), test = ArrayDataset.bars(61, 12, 8);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(threads);
            Sequential model = ArchSpec.build(spec, train.sampleShape(), 0);
            history.addAll(Trainer.fit(model, train, test, config(kind, 2, 40, 0.01f, 5), TrainingListener.NONE));
            return model;
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static void assertThreadCountDoesNotMatter(String spec, TrainConfig.OptimizerKind kind) throws BadInputException {
        List<EpochStats> h1 = new ArrayList<>(), h2 = new ArrayList<>(), h3 = new ArrayList<>();
        Sequential one = trainWithThreads(spec, kind, 1, h1);
        Sequential two = trainWithThreads(spec, kind, 2, h2);
        Sequential three = trainWithThreads(spec, kind, 3, h3);
        assertTrue(sameState(one, two), spec + ": 1 vs 2 threads");
        assertTrue(sameState(one, three), spec + ": 1 vs 3 threads");
        for (int e = 0; e < h1.size(); e++) {
            assertEquals(h1.get(e).trainLoss(), h2.get(e).trainLoss(), 0.0);
            assertEquals(h1.get(e).testLoss(), h2.get(e).testLoss(), 0.0);
            assertEquals(h1.get(e).testAccuracy(), h3.get(e).testAccuracy(), 0.0);
        }
        // and the model did train: the weights moved away from their seed-0 initialisation
        Sequential untrained = ArchSpec.build(spec, new int[] {1, 12, 12}, 0);
        assertFalse(sameState(one, untrained), spec + " did not change in training");
    }

    @Test
    void mlpIsBitIdenticalWhateverTheThreadCount() throws BadInputException {
        // flatten 144 -> 64: the batch GEMMs (40 x 64 x 144) are above the kernels' parallel threshold
        assertThreadCountDoesNotMatter("flatten linear(64) relu linear(3)", TrainConfig.OptimizerKind.ADAM);
        assertThreadCountDoesNotMatter("mlp(144,64,32,3)", TrainConfig.OptimizerKind.SGD);
    }

    @Test
    void cnnIsBitIdenticalWhateverTheThreadCount() throws BadInputException {
        assertThreadCountDoesNotMatter("conv(4,3,pad=1) relu maxpool(2) flatten linear(3)", TrainConfig.OptimizerKind.ADAM);
        // batch norm statistics and dropout masks must not depend on the split either
        assertThreadCountDoesNotMatter("conv(4,3,pad=1) bn relu maxpool(2) flatten dropout(0.3) linear(3)",
                TrainConfig.OptimizerKind.ADAMW);
    }

    @Test
    void theShuffleSeedChangesTheResultAndTheSameSeedRepeatsIt() throws BadInputException {
        ArrayDataset train = ArrayDataset.bars(100, 8, 3);
        String spec = "flatten linear(16) relu linear(3)";
        Sequential a = ArchSpec.build(spec, train.sampleShape(), 0);
        Sequential b = ArchSpec.build(spec, train.sampleShape(), 0);
        Sequential c = ArchSpec.build(spec, train.sampleShape(), 0);
        assertTrue(sameState(a, b), "same build seed, same initial weights");
        Trainer.fit(a, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 1), TrainingListener.NONE);
        Trainer.fit(b, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 2), TrainingListener.NONE);
        Trainer.fit(c, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 1), TrainingListener.NONE);
        assertFalse(sameState(a, b), "seeds 1 and 2 shuffled alike");
        assertTrue(sameState(a, c), "seed 1 twice gave different weights");
    }

    @Test
    void zeroEpochsLeaveTheModelUntouched() throws BadInputException {
        ArrayDataset train = ArrayDataset.bars(50, 8, 3);
        String spec = "conv(2,3) bn relu flatten linear(3)";
        Sequential model = ArchSpec.build(spec, train.sampleShape(), 0);
        List<EpochStats> history = Trainer.fit(model, train, train, config(TrainConfig.OptimizerKind.ADAM, 0, 16, 0.01f, 0),
                TrainingListener.NONE);
        assertTrue(history.isEmpty());
        assertTrue(sameState(model, ArchSpec.build(spec, train.sampleShape(), 0)));
    }

    @Test
    void theScheduleRateReachesTheOptimizer() throws BadInputException {
        // Plain SGD with a rate of 0 in the second epoch must end exactly where one epoch ends.
        ArrayDataset train = ArrayDataset.bars(90, 8, 4);
        String spec = "flatten linear(8) relu linear(3)";
        Sequential oneEpoch = ArchSpec.build(spec, train.sampleShape(), 0);
        Sequential stopped = ArchSpec.build(spec, train.sampleShape(), 0);
        LearningRateSchedule stopAfterFirst = (base, epoch, epochs) -> epoch == 0 ? base : 0f;
        TrainConfig sgd = new TrainConfig(1, 16, 0.05f, TrainConfig.OptimizerKind.SGD, 0f, false, 0f,
                LearningRateSchedule.constant(), 3);
        TrainConfig sgdStopped = new TrainConfig(2, 16, 0.05f, TrainConfig.OptimizerKind.SGD, 0f, false, 0f, stopAfterFirst, 3);
        Trainer.fit(oneEpoch, train, null, sgd, TrainingListener.NONE);
        List<EpochStats> h = Trainer.fit(stopped, train, null, sgdStopped, TrainingListener.NONE);
        assertTrue(sameState(oneEpoch, stopped));
        assertEquals(0.05f, h.get(0).learningRate());
        assertEquals(0f, h.get(1).learningRate());
        // and a step schedule's rates are the ones reported
        TrainConfig stepped = new TrainConfig(3, 16, 0.1f, TrainConfig.OptimizerKind.SGD, 0f, false, 0f,
                LearningRateSchedule.step(2, 0.5f), 3);
        List<EpochStats> hs = Trainer.fit(ArchSpec.build(spec, train.sampleShape(), 0), train, null, stepped, TrainingListener.NONE);
        assertEquals(List.of(0.1f, 0.1f, 0.05f), hs.stream().map(EpochStats::learningRate).toList());
    }

    @Test
    void epochStatsAndListenerCallbacks() throws BadInputException {
        ArrayDataset train = ArrayDataset.bars(45, 8, 5), test = ArrayDataset.bars(20, 8, 6);
        Sequential model = ArchSpec.build("flatten linear(3)", train.sampleShape(), 0);
        List<String> calls = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onBatch(int epoch, int batch, int batches) {
                calls.add(epoch + ":" + batch + "/" + batches);
            }

            @Override
            public void onEpoch(EpochStats stats) {
                calls.add("epoch " + stats.epoch());
            }
        };
        // 45 samples in batches of 20: 20, 20, 5
        List<EpochStats> history = Trainer.fit(model, train, test, config(TrainConfig.OptimizerKind.ADAM, 2, 20, 0.01f, 0), listener);
        assertEquals(List.of("0:0/3", "0:1/3", "0:2/3", "epoch 1", "1:0/3", "1:1/3", "1:2/3", "epoch 2"), calls);
        assertEquals(List.of(1, 2), history.stream().map(EpochStats::epoch).toList());
        for (EpochStats s : history) {
            assertTrue(s.trainAccuracy() >= 0 && s.trainAccuracy() <= 1);
            assertTrue(s.trainLoss() > 0 && Double.isFinite(s.trainLoss()));
            // the test figures are the evaluator's on the model after the epoch
            assertTrue(s.seconds() >= 0);
        }
        Evaluation last = Evaluator.evaluate(model, test, 256);
        assertEquals(last.accuracy(), history.getLast().testAccuracy(), 0.0);
        assertEquals(last.meanLoss(), history.getLast().testLoss(), 0.0);
        // without a test split the test figures are NaN, not zero
        EpochStats noTest = Trainer.fit(model, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 20, 0.01f, 0),
                TrainingListener.NONE).getFirst();
        assertTrue(Double.isNaN(noTest.testAccuracy()) && Double.isNaN(noTest.testLoss()));
    }

    @Test
    void firstEpochLossIsTheRunningMeanOverAllSamples() throws BadInputException {
        // With a learning rate too small to move the weights in float, every batch sees the
        // initial model, so the epoch's mean loss equals the initial model's loss over the set,
        // whatever the (partial) batches.
        ArrayDataset train = ArrayDataset.bars(37, 8, 9);
        Sequential model = ArchSpec.build("flatten linear(3)", train.sampleShape(), 0);
        double initialLoss = Evaluator.evaluate(model, train, 256).meanLoss();
        TrainConfig tiny = new TrainConfig(1, 10, Float.MIN_VALUE, TrainConfig.OptimizerKind.SGD, 0f, false, 0f,
                LearningRateSchedule.constant(), 0);
        EpochStats s = Trainer.fit(model, train, null, tiny, TrainingListener.NONE).getFirst();
        assertEquals(initialLoss, s.trainLoss(), 1e-6);
        assertEquals(Evaluator.evaluate(model, train, 256).accuracy(), s.trainAccuracy(), 0.0);
    }

    @Test
    void batchNormRunningStatisticsMoveInTraining() throws BadInputException {
        ArrayDataset train = ArrayDataset.bars(64, 8, 10);
        Sequential model = ArchSpec.build("conv(3,3) bn relu flatten linear(3)", train.sampleShape(), 0);
        Trainer.fit(model, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 0), TrainingListener.NONE);
        BatchNorm bn = (BatchNorm) model.layers().get(1);
        for (float v : bn.runningVar().data()) assertNotEquals(1f, v);
        for (float m : bn.runningMean().data()) assertNotEquals(0f, m);
    }

    @Test
    void aLastBatchOfOneSampleIsDroppedSoBatchNormCanTrain() throws BadInputException {
        // 33 samples in batches of 16 leave one: BatchNorm1d cannot take statistics from it
        ArrayDataset train = ArrayDataset.rings(33, 11);
        Sequential model = ArchSpec.build("linear(8) bn relu linear(3)", train.sampleShape(), 0);
        List<String> batches = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onBatch(int epoch, int batch, int of) {
                batches.add(batch + "/" + of);
            }
        };
        List<EpochStats> h = Trainer.fit(model, train, null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 0), listener);
        assertEquals(List.of("0/2", "1/2"), batches);
        // the epoch's accuracy is over the 32 samples trained on: a multiple of 1/32
        assertEquals(0.0, h.getFirst().trainAccuracy() * 32 % 1, 1e-9);
        // a last batch of two is kept
        batches.clear();
        Trainer.fit(model, ArrayDataset.rings(34, 11), null, config(TrainConfig.OptimizerKind.ADAM, 1, 16, 0.01f, 0), listener);
        assertEquals(List.of("0/3", "1/3", "2/3"), batches);
    }

    @Test
    void configRejectsBadSettingsAndHasTheDesignDefaults() {
        TrainConfig d = TrainConfig.defaults();
        assertEquals(TrainConfig.OptimizerKind.ADAM, d.optimizer());
        assertEquals(1e-3f, d.learningRate());
        assertEquals(128, d.batchSize());
        assertEquals(10, d.epochs());
        assertEquals(0L, d.seed());
        assertEquals(4, d.withEpochs(4).epochs());
        assertEquals(9L, d.withSeed(9).seed());
        assertEquals(d.learningRate(), d.withSeed(9).withEpochs(2).learningRate());
        assertThrows(IllegalArgumentException.class, () -> d.withEpochs(-1));
        for (float lr : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> new TrainConfig(1, 8, lr, TrainConfig.OptimizerKind.SGD,
                    0f, false, 0f, LearningRateSchedule.constant(), 0), "lr " + lr);
        }
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig(1, 0, 0.1f, TrainConfig.OptimizerKind.SGD,
                0f, false, 0f, LearningRateSchedule.constant(), 0));
    }
}
