package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.Parallel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class Conv2dTest {

    /** The convolution as its definition's seven loops, in double. */
    private static double[] naive(Conv2d conv, Tensor x) {
        int batch = x.dim(0), in = conv.inChannels(), h = x.dim(2), w = x.dim(3);
        int out = conv.outChannels(), k = conv.kernelSize(), s = conv.stride(), p = conv.padding();
        int oh = conv.outputShape()[1], ow = conv.outputShape()[2];
        float[] xd = x.data(), wd = conv.weight().value().data(), bd = conv.bias().value().data();
        double[] y = new double[batch * out * oh * ow];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < out; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = bd[o];
                        for (int c = 0; c < in; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    sum += (double) wd[((o * in + c) * k + ky) * k + kx] * xd[((n * in + c) * h + iy) * w + ix];
                                }
                            }
                        }
                        y[((n * out + o) * oh + oy) * ow + ox] = sum;
                    }
                }
            }
        }
        return y;
    }

    @Test
    void forwardMatchesTheDefinition() {
        Rng shapes = new Rng(1);
        long seed = 100;
        for (int in : new int[] {1, 3, 5}) {
            for (int out : new int[] {1, 3, 5}) {
                for (int trial = 0; trial < 3; trial++) {
                    int k = 1 + shapes.nextInt(5), stride = 1 + shapes.nextInt(3), pad = shapes.nextInt(3);
                    int h = Math.max(k - 2 * pad, 1) + shapes.nextInt(9), w = Math.max(k - 2 * pad, 1) + shapes.nextInt(9);
                    int batch = 1 + shapes.nextInt(3);
                    Conv2d conv = new Conv2d(new int[] {in, h, w}, out, k, stride, pad, new Rng(seed++));
                    Tensor x = GradientCheck.random(seed++, batch, in, h, w);
                    Tensor y = conv.forward(x, false);
                    double[] expected = naive(conv, x);
                    String what = Arrays.toString(new int[] {batch, in, h, w, out, k, stride, pad});
                    assertArrayEquals(new int[] {batch, out, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1},
                            y.shape(), what);
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], y.data()[i], 1e-5 * (1 + in * k * k), what + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void resultsAreBitIdenticalWhateverTheThreadCount() {
        int before = Parallel.threads();
        try {
            Tensor[] reference = null;
            // the last run repeats the first once the JIT has compiled everything
            for (int threads : new int[] {1, 2, 3, 5, 1}) {
                Parallel.setThreads(threads);
                Conv2d conv = new Conv2d(new int[] {3, 12, 12}, 8, 3, 1, 1, new Rng(7));
                Tensor x = GradientCheck.random(8, 37, 3, 12, 12);
                Tensor y = conv.forward(x, true).copy();
                // two backward passes: the second must accumulate onto the first
                conv.backward(GradientCheck.random(9, 37, 8, 12, 12));
                Tensor gx = conv.backward(GradientCheck.random(10, 37, 8, 12, 12)).copy();
                Tensor[] got = {y, gx, conv.weight().grad(), conv.bias().grad()};
                if (reference == null) reference = got;
                else for (int i = 0; i < got.length; i++) assertTrue(reference[i].bitEquals(got[i]), threads + " threads, tensor " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void aLenet5StepIsBitIdenticalWhateverTheThreadCount() throws Exception {
        int before = Parallel.threads();
        try {
            List<Tensor> reference = null;
            for (int threads : new int[] {1, 2, 1}) {
                Parallel.setThreads(threads);
                Sequential m = ArchSpec.build("lenet5", new int[] {1, 28, 28}, 5);
                Tensor y = m.forward(GradientCheck.random(6, 24, 1, 28, 28), true).copy();
                m.backward(GradientCheck.random(7, 24, 10));
                List<Tensor> got = new ArrayList<>(List.of(y));
                for (Parameter p : m.parameters()) got.add(p.grad());
                if (reference == null) reference = got;
                else for (int i = 0; i < got.size(); i++) assertTrue(reference.get(i).bitEquals(got.get(i)), threads + " threads, tensor " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void oneImagesParameterGradientsAreTheirFmaChainsInOutputOrder() {
        // the order the kernels promise, bit for bit: each weight's gradient one FMA chain over
        // the output positions q = oy*ow + ox, each bias's gradient a plain sum in that order;
        // {in, h, w, out, k, stride, pad}: im2row + GEMM (stride 2; and many filters), then the
        // direct kernel (stride 1, few filters, at least DIRECT_GRADIENT_MIN_PLANE pixels)
        int[][] cases = {{3, 9, 11, 5, 3, 2, 1}, {2, 9, 11, 12, 3, 1, 1}, {2, 17, 19, 5, 3, 1, 1}, {1, 28, 28, 6, 5, 1, 2}};
        long seed = 21;
        for (int[] cs : cases) {
            int in = cs[0], h = cs[1], w = cs[2], out = cs[3], k = cs[4], stride = cs[5], pad = cs[6];
            Conv2d conv = new Conv2d(new int[] {in, h, w}, out, k, stride, pad, new Rng(seed++));
            Tensor x = GradientCheck.random(seed++, 1, in, h, w);
            int oh = conv.outputShape()[1], ow = conv.outputShape()[2];
            Tensor g = GradientCheck.random(seed++, 1, out, oh, ow);
            conv.forward(x, true);
            conv.backward(g);
            float[] xd = x.data(), gd = g.data(), dw = conv.weight().grad().data(), db = conv.bias().grad().data();
            String where = java.util.Arrays.toString(cs) + " ";
            for (int o = 0; o < out; o++) {
                float bias = 0f;
                for (int q = 0; q < oh * ow; q++) bias += gd[o * oh * ow + q];
                assertEquals(Float.floatToIntBits(0f + bias), Float.floatToIntBits(db[o]), where + "bias " + o);  // added onto a zero gradient
                for (int c = 0; c < in; c++) {
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            float acc = 0f;
                            for (int oy = 0; oy < oh; oy++) {
                                for (int ox = 0; ox < ow; ox++) {
                                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                    float v = iy >= 0 && iy < h && ix >= 0 && ix < w ? xd[(c * h + iy) * w + ix] : 0f;
                                    acc = Math.fma(gd[o * oh * ow + oy * ow + ox], v, acc);
                                }
                            }
                            int at = ((o * in + c) * k + ky) * k + kx;
                            assertEquals(Float.floatToIntBits(0f + acc), Float.floatToIntBits(dw[at]), where + "weight " + at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void weightGradientAccumulatesAcrossBackwardCalls() {
        Conv2d conv = new Conv2d(new int[] {2, 5, 5}, 3, 3, 1, 1, new Rng(11));
        Tensor x = GradientCheck.random(12, 4, 2, 5, 5), g = GradientCheck.random(13, 4, 3, 5, 5);
        conv.forward(x, true);
        conv.backward(g);
        float[] once = conv.weight().grad().data().clone();
        conv.backward(g);
        for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], conv.weight().grad().data()[i], 1e-5f * (1 + Math.abs(once[i])));
    }

    @Test
    void shapesSpecFlopsAndInitFollowPyTorch() {
        Conv2d conv = new Conv2d(new int[] {6, 14, 14}, 16, 5, 1, 0, new Rng(3));
        assertArrayEquals(new int[] {16, 6, 5, 5}, conv.weight().value().shape());
        assertArrayEquals(new int[] {16}, conv.bias().value().shape());
        assertArrayEquals(new int[] {16, 10, 10}, conv.outputShape());
        assertEquals("conv(16,5)", conv.spec());
        assertEquals(2L * 16 * 6 * 5 * 5 * 10 * 10, conv.flops());
        assertEquals("conv(4,3,stride=2,pad=1)", new Conv2d(new int[] {1, 8, 8}, 4, 3, 2, 1, new Rng(1)).spec());
        double bound = 1 / Math.sqrt(6 * 25);
        for (float v : conv.weight().value().data()) assertTrue(Math.abs(v) <= bound);
        for (float v : conv.bias().value().data()) assertTrue(Math.abs(v) <= bound);
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(new int[] {1, 3, 3}, 2, 5, 1, 0, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(new int[] {9}, 2, 1, 1, 0, new Rng(1)));
    }

    @Test
    void eachSampleOfABatchGetsTheResultItGetsAlone() {
        // every sample's output and input gradient must be the bits it gets alone (whatever the
        // batch is cut into), and the weight and bias gradients the sums over the samples
        int batch = 40, in = 3, size = 16, out = 4;
        Conv2d conv = new Conv2d(new int[] {in, size, size}, out, 3, 1, 1, new Rng(21));
        Tensor x = GradientCheck.random(22, batch, in, size, size), g = GradientCheck.random(23, batch, out, size, size);
        Tensor y = conv.forward(x, true).copy();
        Tensor gx = conv.backward(g).copy();
        float[] dw = conv.weight().grad().data().clone(), db = conv.bias().grad().data().clone();
        double[] expected = naive(conv, x);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], y.data()[i], 1e-4, "output " + i);
        int inSize = in * size * size, outSize = out * size * size;
        double[] dwSum = new double[dw.length], dbSum = new double[db.length];
        for (int s = 0; s < batch; s++) {
            Conv2d alone = new Conv2d(new int[] {in, size, size}, out, 3, 1, 1, new Rng(21));
            Tensor xs = new Tensor(Arrays.copyOfRange(x.data(), s * inSize, (s + 1) * inSize), new int[] {1, in, size, size});
            Tensor gs = new Tensor(Arrays.copyOfRange(g.data(), s * outSize, (s + 1) * outSize), new int[] {1, out, size, size});
            float[] ys = alone.forward(xs, true).data(), gxs = alone.backward(gs).data();
            for (int i = 0; i < outSize; i++) assertEquals(Float.floatToIntBits(ys[i]), Float.floatToIntBits(y.data()[s * outSize + i]), "sample " + s + " output " + i);
            for (int i = 0; i < inSize; i++) assertEquals(Float.floatToIntBits(gxs[i]), Float.floatToIntBits(gx.data()[s * inSize + i]), "sample " + s + " input gradient " + i);
            for (int i = 0; i < dw.length; i++) dwSum[i] += alone.weight().grad().data()[i];
            for (int i = 0; i < db.length; i++) dbSum[i] += alone.bias().grad().data()[i];
        }
        for (int i = 0; i < dw.length; i++) assertEquals(dwSum[i], dw[i], 1e-3 * (1 + Math.abs(dwSum[i])), "weight gradient " + i);
        for (int i = 0; i < db.length; i++) assertEquals(dbSum[i], db[i], 1e-3 * (1 + Math.abs(dbSum[i])), "bias gradient " + i);
    }

    @Test
    void withoutTheInputGradientBackwardReturnsNullAndTheSameParameterGradients() {
        Tensor x = GradientCheck.random(31, 9, 2, 7, 7), g = GradientCheck.random(32, 9, 3, 4, 4);
        Conv2d full = new Conv2d(new int[] {2, 7, 7}, 3, 3, 2, 1, new Rng(30)), weightsOnly = new Conv2d(new int[] {2, 7, 7}, 3, 3, 2, 1, new Rng(30));
        weightsOnly.setInputGradientNeeded(false);
        full.forward(x, true);
        weightsOnly.forward(x, true);
        assertTrue(full.backward(g) != null);
        assertEquals(null, weightsOnly.backward(g));
        assertTrue(full.weight().grad().bitEquals(weightsOnly.weight().grad()));
        assertTrue(full.bias().grad().bitEquals(weightsOnly.bias().grad()));
    }
}
