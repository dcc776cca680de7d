package dev.whittle.engine.nn;

import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of every convolutional-network layer's backward pass. */
class ConvLayerGradientTest {

    /** Distinct values 0.05 apart in random order: no two pixels of a window are within a step of each other. */
    static Tensor distinct(long seed, int... shape) {
        Tensor t = Tensor.zeros(shape);
        int[] order = new int[t.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        new Rng(seed).shuffle(order);
        for (int i = 0; i < order.length; i++) t.data()[i] = (order[i] - order.length / 2) * 0.05f;
        return t;
    }

    /** Random values kept at least 0.1 away from 0, where the leaky ReLU has its kink. */
    private static Tensor awayFromZero(long seed, int... shape) {
        Tensor t = GradientCheck.random(seed, shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = Math.copySign(0.1f + Math.abs(d[i]), d[i]);
        return t;
    }

    private static void randomise(Parameter p, long seed) {
        float[] src = GradientCheck.random(seed, p.value().size()).data();
        System.arraycopy(src, 0, p.value().data(), 0, src.length);
    }

    @Test
    void convMatchesFiniteDifferences() {
        // {in, h, w, out, kernel, stride, pad}, on a batch of 2
        int[][] cases = {
            {3, 7, 5, 4, 3, 1, 0},  // non-square input
            {3, 7, 5, 4, 3, 2, 1},  // stride 2, pad 1
            {2, 6, 6, 3, 5, 1, 2},  // pad 2 keeps the size
            {2, 7, 5, 3, 4, 2, 2},  // even kernel, stride 2, pad 2
            {3, 4, 5, 2, 1, 1, 0},  // kernel 1: a per-pixel linear map
            {1, 3, 3, 2, 5, 1, 1},  // kernel as large as the padded input: a 1x1 output
            {5, 5, 4, 1, 2, 3, 0},  // stride larger than the kernel skips pixels
            {1, 16, 16, 3, 3, 1, 1},  // 256 output pixels, 3 filters: the direct weight gradient
        };
        long seed = 10;
        for (int[] c : cases) {
            Conv2d conv = new Conv2d(new int[] {c[0], c[1], c[2]}, c[3], c[4], c[5], c[6], new Rng(seed++));
            GradientCheck.check(conv, GradientCheck.random(seed++, 2, c[0], c[1], c[2]), true, seed++);
        }
    }

    @Test
    void maxPoolMatchesFiniteDifferences() {
        GradientCheck.check(new MaxPool2d(new int[] {3, 7, 5}, 2, 2), distinct(1, 2, 3, 7, 5), true, 2);
        GradientCheck.check(new MaxPool2d(new int[] {3, 7, 5}, 3, 2), distinct(3, 2, 3, 7, 5), true, 4); // overlapping
        GradientCheck.check(new MaxPool2d(new int[] {2, 7, 5}, 2, 3), distinct(5, 2, 2, 7, 5), true, 6); // gaps
    }

    @Test
    void avgPoolMatchesFiniteDifferences() {
        GradientCheck.check(new AvgPool2d(new int[] {3, 7, 5}, 2, 2), GradientCheck.random(7, 2, 3, 7, 5), true, 8);
        GradientCheck.check(new AvgPool2d(new int[] {3, 7, 5}, 3, 2), GradientCheck.random(9, 2, 3, 7, 5), true, 10);
        GradientCheck.check(new AvgPool2d(new int[] {2, 7, 5}, 2, 3), GradientCheck.random(11, 2, 2, 7, 5), true, 12);
    }

    @Test
    void globalAvgPoolMatchesFiniteDifferences() {
        GradientCheck.check(new GlobalAvgPool(new int[] {3, 4, 5}), GradientCheck.random(13, 2, 3, 4, 5), true, 14);
    }

    @Test
    void batchNormMatchesFiniteDifferencesInTraining() {
        BatchNorm1d bn1 = new BatchNorm1d(7);
        randomise(bn1.weight(), 15);
        randomise(bn1.bias(), 16);
        GradientCheck.check(bn1, GradientCheck.random(17, 6, 7), true, 18);

        BatchNorm2d bn2 = new BatchNorm2d(new int[] {3, 4, 5});
        randomise(bn2.weight(), 19);
        randomise(bn2.bias(), 20);
        GradientCheck.check(bn2, GradientCheck.random(21, 2, 3, 4, 5), true, 22);
    }

    @Test
    void batchNormMatchesFiniteDifferencesInEvaluation() {
        BatchNorm2d bn = new BatchNorm2d(new int[] {3, 4, 5});
        randomise(bn.weight(), 23);
        randomise(bn.bias(), 24);
        // move the running statistics away from (0, 1) first
        for (int step = 0; step < 5; step++) {
            Tensor x = GradientCheck.random(25 + step, 4, 3, 4, 5);
            for (int i = 0; i < x.size(); i++) x.data()[i] = 3f * x.data()[i] + 1f;
            bn.forward(x, true);
        }
        GradientCheck.check(bn, GradientCheck.random(31, 2, 3, 4, 5), false, 32);

        BatchNorm1d bn1 = new BatchNorm1d(5);
        randomise(bn1.weight(), 33);
        for (int step = 0; step < 3; step++) bn1.forward(GradientCheck.random(34 + step, 8, 5), true);
        GradientCheck.check(bn1, GradientCheck.random(38, 3, 5), false, 39);
    }

    @Test
    void activationsMatchFiniteDifferences() {
        GradientCheck.check(new LeakyReLU(new int[] {3, 4, 5}, 0.01f), awayFromZero(40, 2, 3, 4, 5), true, 41);
        GradientCheck.check(new LeakyReLU(new int[] {19}, 0.3f), awayFromZero(42, 5, 19), true, 43);
        Tensor wide = GradientCheck.random(44, 5, 19);
        for (int i = 0; i < wide.size(); i++) wide.data()[i] *= 3f;
        GradientCheck.check(new Tanh(new int[] {19}), wide, true, 45);
        GradientCheck.check(new Sigmoid(new int[] {19}), wide, true, 46);
    }
}
