package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Tensor;
import dev.whittle.kernels.Parallel;
import org.junit.jupiter.api.Test;

/** Pooling against small hand-worked examples. */
class PoolingTest {

    // one 4x5 channel
    private static final float[] IMAGE = {
        1, 2, 0, 3, 9,
        4, 1, 5, 2, 9,
        0, 7, 7, 1, 9,
        3, 2, 6, 8, 9,
    };

    @Test
    void maxPoolFloorsTheOutputAndRoutesGradientsToTheMaximum() {
        MaxPool2d pool = new MaxPool2d(new int[] {1, 4, 5}, 2, 2);
        assertArrayEquals(new int[] {1, 2, 2}, pool.outputShape()); // the last column is dropped
        Tensor y = pool.forward(new Tensor(IMAGE.clone(), 1, 1, 4, 5), true);
        assertArrayEquals(new float[] {4, 5, 7, 8}, y.data());
        Tensor g = pool.backward(new Tensor(new float[] {1, 2, 3, 4}, 1, 1, 2, 2));
        float[] expected = new float[20];
        expected[5] = 1;   // 4 at (1,0)
        expected[7] = 2;   // 5 at (1,2)
        expected[11] = 3;  // 7 at (2,1)
        expected[18] = 4;  // 8 at (3,3)
        assertArrayEquals(expected, g.data());
    }

    @Test
    void overlappingMaxPoolWindowsAddTheirGradients() {
        MaxPool2d pool = new MaxPool2d(new int[] {1, 4, 5}, 3, 1);
        Tensor y = pool.forward(new Tensor(IMAGE.clone(), 1, 1, 4, 5), true);
        assertArrayEquals(new float[] {7, 7, 9, 7, 8, 9}, y.data());
        Tensor g = pool.backward(new Tensor(new float[] {1, 1, 1, 1, 1, 1}, 1, 1, 2, 3));
        assertEquals(3f, g.data()[11]); // on the tie of 7s at (2,1) and (2,2) the first wins, in all three windows
        assertEquals(0f, g.data()[12]);
        assertEquals(1f, g.data()[18]);
        assertEquals(1f, g.data()[4]);  // each of the right windows picks the first 9 it scans
        assertEquals(1f, g.data()[9]);
        assertEquals(0f, g.data()[14]);
        assertEquals("maxpool(3,1)", pool.spec());
    }

    @Test
    void aNaNInAMaxPoolWindowPropagates() {
        MaxPool2d pool = new MaxPool2d(new int[] {1, 2, 4}, 2, 2);
        float[] x = {-1, Float.NaN, Float.NEGATIVE_INFINITY, -3, 5, 2, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Tensor y = pool.forward(new Tensor(x, 1, 1, 2, 4), true);
        assertTrue(Float.isNaN(y.data()[0]));
        assertEquals(-3f, y.data()[1]);
        Tensor g = pool.backward(new Tensor(new float[] {1, 2}, 1, 1, 1, 2));
        assertArrayEquals(new float[] {0, 1, 0, 2, 0, 0, 0, 0}, g.data());
    }

    @Test
    void avgPoolAveragesAndSpreadsEvenly() {
        AvgPool2d pool = new AvgPool2d(new int[] {1, 4, 5}, 2, 2);
        Tensor y = pool.forward(new Tensor(IMAGE.clone(), 1, 1, 4, 5), true);
        assertArrayEquals(new float[] {2, 2.5f, 3, 5.5f}, y.data());
        Tensor g = pool.backward(new Tensor(new float[] {4, 8, 12, 16}, 1, 1, 2, 2));
        assertEquals(1f, g.data()[0]);
        assertEquals(2f, g.data()[8]);
        assertEquals(0f, g.data()[9]); // the dropped column gets no gradient
        assertEquals(4f, g.data()[18]);
        assertEquals("avgpool(2)", pool.spec());
    }

    @Test
    void globalAvgPoolGivesAFlatChannelMean() {
        GlobalAvgPool gap = new GlobalAvgPool(new int[] {2, 2, 2});
        Tensor y = gap.forward(new Tensor(new float[] {1, 2, 3, 4, -1, -1, -1, 3}, 1, 2, 2, 2), true);
        assertArrayEquals(new int[] {1, 2}, y.shape());
        assertArrayEquals(new float[] {2.5f, 0f}, y.data());
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2}, gap.backward(new Tensor(new float[] {4, 8}, 1, 2)).data());
    }

    @Test
    void poolingIsBitIdenticalWhateverTheThreadCount() {
        int before = Parallel.threads();
        try {
            Tensor x = GradientCheck.random(1, 16, 8, 28, 28), g = GradientCheck.random(2, 16, 8, 14, 14);
            Tensor[] reference = null;
            for (int threads : new int[] {1, 3}) {
                Parallel.setThreads(threads);
                MaxPool2d max = new MaxPool2d(new int[] {8, 28, 28}, 2, 2);
                AvgPool2d avg = new AvgPool2d(new int[] {8, 28, 28}, 3, 2);
                Tensor[] got = {max.forward(x, true).copy(), max.backward(g).copy(), avg.forward(x, true).copy(),
                        avg.backward(GradientCheck.random(3, 16, 8, 13, 13)).copy()};
                if (reference == null) reference = got;
                else for (int i = 0; i < got.length; i++) assertTrue(reference[i].bitEquals(got[i]), "tensor " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void maxPoolInferenceGivesTheTrainingPassesValues() {
        dev.whittle.engine.Rng rng = new dev.whittle.engine.Rng(3);
        for (int[] ks : new int[][] {{2, 2}, {3, 1}, {3, 2}, {2, 1}}) {
            MaxPool2d pool = new MaxPool2d(new int[] {3, 9, 8}, ks[0], ks[1]);
            float[] x = new float[2 * 3 * 9 * 8];
            for (int i = 0; i < x.length; i++) x[i] = rng.uniform(-1f, 1f);
            x[5] = Float.NaN;
            x[40] = -0f;
            x[41] = 0f;
            Tensor in = new Tensor(x, 2, 3, 9, 8);
            Tensor train = pool.forward(in, true).copy();
            assertTrue(train.bitEquals(pool.forward(in, false)), "kernel " + ks[0] + " stride " + ks[1]);
        }
    }

    @Test
    void twoByTwoMaxPoolRoutesToTheFirstMaximumOfEachWindow() {
        // ties, signed zeros, infinities and NaNs in every window; odd sizes drop a row and a column
        float[] values = {0f, -0f, 1f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 2f};
        java.util.Random random = new java.util.Random(7);
        int batch = 3, channels = 2, h = 9, w = 11;
        float[] x = new float[batch * channels * h * w];
        for (int i = 0; i < x.length; i++) x[i] = values[random.nextInt(random.nextInt(3) == 0 ? values.length : 3)];
        MaxPool2d pool = new MaxPool2d(new int[] {channels, h, w}, 2, 2);
        Tensor y = pool.forward(new Tensor(x.clone(), batch, channels, h, w), true);
        int oh = h / 2, ow = w / 2;
        float[] grad = new float[batch * channels * oh * ow];
        for (int i = 0; i < grad.length; i++) grad[i] = i + 1;
        float[] gi = pool.backward(new Tensor(grad, batch, channels, oh, ow)).data();
        float[] expected = new float[x.length];
        for (int p = 0; p < batch * channels; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int best = -1;
                    for (int ky = 0; ky < 2; ky++) {
                        for (int kx = 0; kx < 2; kx++) {
                            int i = p * h * w + (2 * oy + ky) * w + 2 * ox + kx;
                            if (best < 0 || larger(x[i], x[best])) best = i;
                        }
                    }
                    int o = (p * oh + oy) * ow + ox;
                    assertEquals(Float.floatToRawIntBits(x[best]), Float.floatToRawIntBits(y.data()[o]), "output " + o);
                    expected[best] += grad[o];
                }
            }
        }
        assertArrayEquals(expected, gi);
    }

    /** a > b, with NaN above everything and +0 above -0. */
    private static boolean larger(float a, float b) {
        if (Float.isNaN(b)) return false;
        if (Float.isNaN(a)) return true;
        if (a == 0f && b == 0f) return Float.floatToRawIntBits(a) == 0 && Float.floatToRawIntBits(b) != 0;
        return a > b;
    }
}
