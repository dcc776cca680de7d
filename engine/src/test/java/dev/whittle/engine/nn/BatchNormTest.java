package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchNormTest {

    /** Per channel of {@code x [batch, c, spatial]}: {mean, biased variance}, in double. */
    private static double[][] stats(Tensor x, int channels) {
        int batch = x.dim(0), spatial = x.size() / batch / channels;
        double[][] r = new double[channels][2];
        for (int c = 0; c < channels; c++) {
            double sum = 0, sq = 0;
            for (int n = 0; n < batch; n++) for (int i = 0; i < spatial; i++) sum += x.data()[(n * channels + c) * spatial + i];
            double mean = sum / (batch * spatial);
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < spatial; i++) {
                    double d = x.data()[(n * channels + c) * spatial + i] - mean;
                    sq += d * d;
                }
            }
            r[c][0] = mean;
            r[c][1] = sq / (batch * spatial);
        }
        return r;
    }

    @Test
    void runningStatisticsFollowPyTorchsUpdate() {
        BatchNorm2d bn = new BatchNorm2d(new int[] {3, 2, 3});
        double[] mean = {0, 0, 0}, var = {1, 1, 1};
        for (int step = 0; step < 4; step++) {
            Tensor x = GradientCheck.random(step, 5, 3, 2, 3);
            for (int i = 0; i < x.size(); i++) x.data()[i] = 2f * x.data()[i] + step; // drift the mean
            double[][] s = stats(x, 3);
            int count = 5 * 2 * 3;
            for (int c = 0; c < 3; c++) {
                mean[c] = 0.9 * mean[c] + 0.1 * s[c][0];
                var[c] = 0.9 * var[c] + 0.1 * s[c][1] * count / (count - 1); // unbiased
            }
            bn.forward(x, true);
        }
        for (int c = 0; c < 3; c++) {
            assertEquals(mean[c], bn.runningMean().data()[c], 1e-5);
            assertEquals(var[c], bn.runningVar().data()[c], 1e-5);
        }
    }

    @Test
    void trainingNormalisesWithTheBatchsBiasedStatistics() {
        BatchNorm1d bn = new BatchNorm1d(4);
        bn.weight().value().data()[2] = 3f;
        bn.bias().value().data()[2] = -1f;
        Tensor x = GradientCheck.random(9, 6, 4);
        double[][] s = stats(x, 4);
        Tensor y = bn.forward(x, true);
        for (int n = 0; n < 6; n++) {
            for (int c = 0; c < 4; c++) {
                double w = c == 2 ? 3 : 1, b = c == 2 ? -1 : 0;
                double expected = w * (x.data()[n * 4 + c] - s[c][0]) / Math.sqrt(s[c][1] + 1e-5) + b;
                assertEquals(expected, y.data()[n * 4 + c], 1e-5);
            }
        }
    }

    @Test
    void evaluationUsesTheRunningStatistics() {
        BatchNorm2d bn = new BatchNorm2d(new int[] {2, 3, 3});
        bn.runningMean().data()[0] = 0.5f;
        bn.runningMean().data()[1] = -2f;
        bn.runningVar().data()[0] = 4f;
        bn.runningVar().data()[1] = 0.25f;
        bn.weight().value().data()[1] = 2f;
        bn.bias().value().data()[0] = 0.125f;
        Tensor x = GradientCheck.random(4, 3, 2, 3, 3);
        Tensor y = bn.forward(x, false);
        for (int i = 0; i < x.size(); i++) {
            int c = (i / 9) % 2;
            double expected = c == 0 ? (x.data()[i] - 0.5) / Math.sqrt(4 + 1e-5) + 0.125 : 2 * (x.data()[i] + 2) / Math.sqrt(0.25 + 1e-5);
            assertEquals(expected, y.data()[i], 1e-5);
        }
        // evaluation leaves the running statistics alone
        assertEquals(0.5f, bn.runningMean().data()[0]);
        assertEquals(0.25f, bn.runningVar().data()[1]);
    }

    @Test
    void stateDictNamesAndDefaultsAreTorchs() {
        BatchNorm2d bn = new BatchNorm2d(new int[] {5, 4, 4});
        assertEquals(List.of("weight", "bias"), bn.parameters().stream().map(p -> p.localName()).toList());
        assertEquals(List.of("running_mean", "running_var"), bn.buffers().stream().map(NamedTensor::name).toList());
        for (int c = 0; c < 5; c++) {
            assertEquals(1f, bn.weight().value().data()[c]);
            assertEquals(0f, bn.bias().value().data()[c]);
            assertEquals(0f, bn.runningMean().data()[c]);
            assertEquals(1f, bn.runningVar().data()[c]);
        }
        assertEquals("bn", bn.spec());
    }

    @Test
    void aSingleValuePerChannelCannotBeNormalisedInTraining() {
        BatchNorm1d bn = new BatchNorm1d(3);
        assertThrows(IllegalArgumentException.class, () -> bn.forward(GradientCheck.random(1, 1, 3), true));
        bn.forward(GradientCheck.random(1, 1, 3), false); // evaluation is fine
    }
}
