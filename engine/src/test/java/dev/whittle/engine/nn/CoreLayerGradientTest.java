package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import org.junit.jupiter.api.Test;

class CoreLayerGradientTest {

    @Test
    void linearMatchesFiniteDifferences() {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 17, 5}, {4, 33, 10}}) {
            Linear l = new Linear(s[1], s[2], new Rng(7));
            GradientCheck.check(l, GradientCheck.random(1, s[0], s[1]), true, 2);
        }
    }

    @Test
    void reluMatchesFiniteDifferences() {
        GradientCheck.check(new ReLU(new int[] {19}), GradientCheck.random(3, 5, 19), true, 4);
    }

    @Test
    void flattenIsAViewBothWays() {
        Flatten f = new Flatten(new int[] {2, 3, 4});
        Tensor x = GradientCheck.random(5, 2, 2, 3, 4);
        Tensor y = f.forward(x, true);
        assertEquals(2, y.rank());
        assertEquals(24, y.dim(1));
        GradientCheck.check(f, x, true, 6);
    }

    @Test
    void dropoutScalesSurvivorsAndIsIdentityInEvaluation() {
        Dropout d = new Dropout(new int[] {1000}, 0.25f, new Rng(9));
        Tensor x = GradientCheck.random(10, 4, 1000);
        Tensor y = d.forward(x, true);
        int zeros = 0;
        for (int i = 0; i < y.size(); i++) {
            if (y.data()[i] == 0f) zeros++;
            else assertEquals(x.data()[i] / 0.75f, y.data()[i], 1e-6f);
        }
        assertEquals(0.25, zeros / 4000.0, 0.03);
        assertEquals(x, d.forward(x, false));
        // backward routes the gradient through the same mask
        Tensor again = d.forward(x, true);
        Tensor g = d.backward(x);
        for (int i = 0; i < g.size(); i++) assertEquals(again.data()[i], g.data()[i], 1e-6f);
    }

    @Test
    void softmaxCrossEntropyGradientMatchesFiniteDifferences() {
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        Tensor logits = GradientCheck.random(11, 6, 10);
        for (int i = 0; i < logits.size(); i++) logits.data()[i] *= 5f;
        int[] labels = {0, 3, 9, 9, 1, 5};
        loss.forward(logits, labels);
        float[] g = loss.backward().data().clone();
        double eps = 1e-3;
        for (int i = 0; i < logits.size(); i++) {
            float saved = logits.data()[i];
            logits.data()[i] = (float) (saved + eps);
            double plus = loss.forward(logits, labels);
            logits.data()[i] = (float) (saved - eps);
            double minus = loss.forward(logits, labels);
            logits.data()[i] = saved;
            assertEquals((plus - minus) / (2 * eps), g[i], 2e-3);
        }
    }

    @Test
    void softmaxCrossEntropyIsStableForHugeLogits() {
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
        Tensor logits = new Tensor(new float[] {1e30f, 0f, -1e30f, 1000f, 1001f, 999f}, 2, 3);
        float l = loss.forward(logits, new int[] {0, 1});
        // row 0: correct class dominates -> 0; row 1: log(e^0 + e^1 + e^-1) - 1
        double expected = (0 + (Math.log(Math.exp(-1) + 1 + Math.exp(-2)))) / 2;
        assertEquals(expected, l, 1e-4);
    }
}
