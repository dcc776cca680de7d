package dev.whittle.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.kernels.Int8Requantization;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The quantized model against a plain integer re-implementation of the same arithmetic (the
 * twin of the whole pipeline: im2row, zero-point padding, int32 bias, requantization, fused ReLU,
 * int8 max pooling, the FP32 last layer), and against the float model it came from.
 */
class QuantizedModelTest {

    static final String CONV_NET = "conv(4,3,pad=1) relu maxpool(2) conv(6,3) relu flatten linear(12) relu linear(5)";
    static final int[] INPUT = {2, 10, 10};

    static Sequential floatModel(String spec, int[] input, long seed) throws BadInputException {
        return ArchSpec.build(spec, input, seed);
    }

    static Tensor batch(int n, int[] shape, long seed) {
        int size = 1;
        for (int d : shape) size *= d;
        Rng rng = new Rng(seed);
        float[] x = new float[n * size];
        for (int i = 0; i < x.length; i++) x[i] = rng.uniform(-1f, 2f);
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return new Tensor(x, s);
    }

    /** Per-tensor int8 parameters covering the range of every input the float model gives layer i. */
    static Map<Integer, QuantizedModel.LayerPlan> w8a8Plans(Sequential model, Tensor calib, Granularity g) {
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        Tensor x = calib;
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l instanceof Linear || l instanceof Conv2d) {
                float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                for (float v : x.data()) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                Tensor w = l instanceof Linear lin ? lin.weight().value() : ((Conv2d) l).weight().value();
                int rows = w.dim(0), cols = w.size() / rows;
                plans.put(i, new QuantizedModel.LayerPlan(QuantizedWeights.roundToNearest(w.data(), rows, cols, 8, g, 0),
                        ActivationMode.INT8, Quantization.affine(QuantRange.INT8, lo, hi)));
            }
            x = l.forward(x, false);
        }
        return plans;
    }

    @Test
    void w8a8ConvNetMatchesAnIntegerTwinBitForBit() throws BadInputException {
        Sequential model = floatModel(CONV_NET, INPUT, 3);
        Tensor calib = batch(16, INPUT, 4);
        Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, calib, Granularity.PER_CHANNEL);
        QuantizedModel q = QuantizedModel.build(model, plans);
        for (int n : new int[] {1, 3, 17}) {
            Tensor x = batch(n, INPUT, 10 + n);
            float[] got = q.predict(x).data();
            float[] want = integerTwin(model, plans, x);
            assertArrayEquals(want, got, "batch " + n);
        }
    }

    @Test
    void aBatchSharedOutAmongThreadsGivesTheTwinsBits() throws BadInputException {
        // the small convolutions share a batch out in runs of samples, each with its own scratch:
        // dense and pruned (sparse taps) filters, with the max pooling fused, on 1 to 3 threads
        Sequential dense = floatModel(CONV_NET, INPUT, 41), pruned = floatModel(CONV_NET, INPUT, 42);
        for (Layer l : pruned.layers()) {
            if (!(l instanceof Conv2d c)) continue;
            float[] w = c.weight().value().data();
            for (int i = 0; i < w.length; i++) if (i % 3 != 0) w[i] = 0f;
        }
        try {
            for (Sequential model : new Sequential[] {dense, pruned}) {
                Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(16, INPUT, 43), Granularity.PER_CHANNEL);
                QuantizedModel q = QuantizedModel.build(model, plans);
                for (int n : new int[] {17, 40}) {
                    Tensor x = batch(n, INPUT, 44 + n);
                    float[] want = integerTwin(model, plans, x);
                    for (int threads = 1; threads <= 3; threads++) {
                        dev.whittle.kernels.Parallel.setThreads(threads);
                        assertArrayEquals(want, q.predict(x).data(), "batch " + n + ", " + threads + " threads");
                    }
                }
            }
        } finally {
            dev.whittle.kernels.Parallel.setThreads(Runtime.getRuntime().availableProcessors());
        }
    }

    @Test
    void prunedLinearsRunOnTheSparseKernelsAndMatchTheIntegerTwin() throws BadInputException {
        int[] input = {192};
        Sequential model = floatModel("linear(40) relu linear(33) relu linear(7)", input, 31);
        int layer = 0;
        for (Layer l : model.layers()) {
            if (!(l instanceof Linear lin)) continue;
            // density 1/20 (the batch-1 sparse path) in the first layers, 1/4 (only batched) in the last
            int keep = layer++ < 2 ? 20 : 4;
            float[] w = lin.weight().value().data();
            for (int i = 0; i < w.length; i++) if (i % keep != 1) w[i] = 0f;
        }
        for (Granularity g : new Granularity[] {Granularity.PER_CHANNEL, Granularity.PER_TENSOR}) {
            Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(16, input, 32), g);
            QuantizedModel q = QuantizedModel.build(model, plans);
            for (int n : new int[] {1, 2, 9}) {
                Tensor x = batch(n, input, 33 + n);
                assertArrayEquals(integerTwin(model, plans, x), q.predict(x).data(), g + " batch " + n);
            }
        }
    }

    @Test
    void prunedConvolutionsRunOnTheSparseKernelAndMatchTheIntegerTwin() throws BadInputException {
        Sequential model = floatModel(CONV_NET, INPUT, 21);
        // prune both convolutions below the sparse break-even, in a pattern that empties whole filters too
        for (Layer l : model.layers()) {
            if (!(l instanceof Conv2d c)) continue;
            float[] w = c.weight().value().data();
            for (int i = 0; i < w.length; i++) if (i % 3 != 0 || i < w.length / 4) w[i] = 0f;
        }
        Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(16, INPUT, 22), Granularity.PER_CHANNEL);
        QuantizedModel q = QuantizedModel.build(model, plans);
        for (int n : new int[] {1, 4}) {
            Tensor x = batch(n, INPUT, 23 + n);
            assertArrayEquals(integerTwin(model, plans, x), q.predict(x).data(), "batch " + n);
        }
    }

    @Test
    void aMaxPoolingAfterAConvolutionIsFusedIntoItWithTheSameBits() throws BadInputException {
        // odd planes (9x9 and 3x3 before pooling): the pooling drops the last row and column
        int[] input = {2, 9, 9};
        Sequential model = floatModel("conv(5,3,pad=1) relu maxpool(2) conv(3,2) maxpool(2) flatten linear(4)", input, 41);
        Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(16, input, 42), Granularity.PER_CHANNEL);
        QuantizedModel q = QuantizedModel.build(model, plans);
        assertEquals(0, q.steps().stream().filter(st -> st instanceof Int8Pool2d).count(), "both poolings fused: " + q.steps());
        assertEquals(model.layers().size(), q.entries().size(), "every layer keeps its entry");
        for (int n : new int[] {1, 3}) {
            Tensor x = batch(n, input, 43 + n);
            assertArrayEquals(integerTwin(model, plans, x), q.predict(x).data(), "batch " + n);
        }
    }

    @Test
    void aConvolutionTooDeepForExactFloatSumsRunsOnTheInt8GemmAndMatchesTheTwin() throws BadInputException {
        int[] input = {60, 5, 5};   // 60 * 3 * 3 = 540 inputs per output: past EXACT_FLOAT_K
        Sequential model = floatModel("conv(3,3,pad=1) relu flatten linear(4)", input, 14);
        Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(8, input, 15), Granularity.PER_CHANNEL);
        QuantizedModel q = QuantizedModel.build(model, plans);
        Tensor x = batch(3, input, 16);
        assertArrayEquals(integerTwin(model, plans, x), q.predict(x).data());
    }

    @Test
    void w8a8StaysCloseToTheFloatModel() throws BadInputException {
        for (Granularity g : new Granularity[] {Granularity.PER_CHANNEL, Granularity.PER_TENSOR}) {
            Sequential model = floatModel(CONV_NET, INPUT, 5);
            QuantizedModel q = QuantizedModel.build(model, w8a8Plans(model, batch(32, INPUT, 6), g));
            Tensor x = batch(8, INPUT, 7);
            float[] want = model.forward(x, false).data().clone();
            float[] got = q.predict(x).data();
            double maxAbs = 0, err = 0;
            for (int i = 0; i < want.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(want[i]));
                err = Math.max(err, Math.abs(want[i] - got[i]));
            }
            assertTrue(err < 0.05 * maxAbs + 1e-3, g + ": int8 outputs " + err + " from fp32 (outputs up to " + maxAbs + ")");
        }
    }

    @Test
    void int4LayersMatchTheirDequantizedWeights() throws BadInputException {
        // few filters (a direct convolution in FP32) and many with a stride (im2col and the GEMM)
        for (String spec : new String[] {"conv(3,3,pad=1) relu flatten linear(37) relu linear(4)",
                                         "conv(20,3,stride=2,pad=1) relu flatten linear(37) relu linear(4)"}) {
            int4LayersMatchTheirDequantizedWeights(spec);
        }
    }

    private void int4LayersMatchTheirDequantizedWeights(String spec) throws BadInputException {
        Sequential model = floatModel(spec, new int[] {1, 9, 9}, 8);
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        for (ActivationMode mode : new ActivationMode[] {ActivationMode.FLOAT, ActivationMode.INT8_DYNAMIC}) {
            for (int i : new int[] {0, 3, 5}) {
                Layer l = model.layers().get(i);
                Tensor w = l instanceof Linear lin ? lin.weight().value() : ((Conv2d) l).weight().value();
                int rows = w.dim(0), cols = w.size() / rows;
                plans.put(i, new QuantizedModel.LayerPlan(
                        QuantizedWeights.roundToNearest(w.data(), rows, cols, 4, Granularity.PER_GROUP, 32), mode, null));
            }
            QuantizedModel q = QuantizedModel.build(model, plans);
            // the same model in float with every weight replaced by scale * q
            Sequential dequantized = floatModel(spec, new int[] {1, 9, 9}, 8);
            for (int i : plans.keySet()) {
                Layer l = dequantized.layers().get(i);
                Tensor w = l instanceof Linear lin ? lin.weight().value() : ((Conv2d) l).weight().value();
                int rows = w.dim(0), cols = w.size() / rows;
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) w.data()[r * cols + c] = plans.get(i).weights().dequantized(r, c);
                }
            }
            Tensor x = batch(5, new int[] {1, 9, 9}, 9);
            float[] want = dequantized.forward(x, false).data();
            float[] got = q.predict(x).data();
            double tol = mode == ActivationMode.FLOAT ? 1e-4 : 0.05;   // W4A8 also rounds the activations
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), spec + ", " + mode + ": output " + i);
            }
            // a batch large enough to be shared out among threads: the same bits on 1 to 3
            Tensor many = batch(64, new int[] {1, 9, 9}, 10);
            try {
                dev.whittle.kernels.Parallel.setThreads(1);
                float[] one = q.predict(many).data();
                for (int threads = 2; threads <= 3; threads++) {
                    dev.whittle.kernels.Parallel.setThreads(threads);
                    assertArrayEquals(one, q.predict(many).data(), spec + ", " + mode + ", " + threads + " threads");
                }
            } finally {
                dev.whittle.kernels.Parallel.setThreads(Runtime.getRuntime().availableProcessors());
            }
        }
    }

    @Test
    void aLayerKeptInFloatRunsBetweenDequantizeAndQuantize() throws BadInputException {
        Sequential model = floatModel("flatten linear(20) tanh linear(9) relu linear(3)", new int[] {13}, 11);
        Map<Integer, QuantizedModel.LayerPlan> plans = w8a8Plans(model, batch(16, new int[] {13}, 12), Granularity.PER_CHANNEL);
        plans.remove(3);   // linear(9) stays in fp32
        QuantizedModel q = QuantizedModel.build(model, plans);
        List<String> steps = q.steps().stream().map(QuantizedLayer::spec).toList();
        assertEquals(List.of("flatten", "quantize", "linear(20)", "tanh", "linear(9)", "relu", "quantize", "linear(3)"), steps);
        Tensor x = batch(4, new int[] {13}, 13);
        float[] want = model.forward(x, false).data().clone();
        float[] got = q.predict(x).data();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0.05 * (1 + Math.abs(want[i])));
    }

    // ---- the integer twin ----------------------------------------------------------------------

    /** The quantized forward pass written out in plain integer loops, layer by layer. */
    static float[] integerTwin(Sequential model, Map<Integer, QuantizedModel.LayerPlan> plans, Tensor input) {
        List<Layer> layers = model.layers();
        int n = input.dim(0);
        QuantizedModel.LayerPlan first = plans.get(0);
        float s = first.input().scales()[0];
        int z = first.input().zeroPoints()[0];
        int[] q = new int[input.size()];
        for (int i = 0; i < q.length; i++) q[i] = Quantization.quantize(input.data()[i], s, z, QuantRange.INT8);
        int[] shape = input.shape();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            QuantizedModel.LayerPlan p = plans.get(i);
            if (p == null) {
                String spec = l.spec();
                if (spec.startsWith("maxpool")) {
                    int c = shape[1], h = shape[2], w = shape[3], oh = h / 2, ow = w / 2;
                    int[] out = new int[n * c * oh * ow];
                    for (int b = 0; b < n * c; b++) {
                        for (int y = 0; y < oh; y++) {
                            for (int x = 0; x < ow; x++) {
                                int m = Integer.MIN_VALUE;
                                for (int dy = 0; dy < 2; dy++) for (int dx = 0; dx < 2; dx++) m = Math.max(m, q[(b * h + 2 * y + dy) * w + 2 * x + dx]);
                                out[(b * oh + y) * ow + x] = m;
                            }
                        }
                    }
                    q = out;
                    shape = new int[] {n, c, oh, ow};
                } else if (spec.equals("flatten")) {
                    shape = new int[] {n, q.length / n};
                }
                continue;   // relu: fused into the layer before
            }
            boolean relu = i + 1 < layers.size() && layers.get(i + 1).spec().equals("relu");
            QuantizedModel.LayerPlan next = null;
            for (int j = i + 1; j < layers.size() && next == null; j++) next = plans.get(j);
            int zx = p.input().zeroPoints()[0];
            float sx = p.input().scales()[0];
            QuantizedWeights w = p.weights();
            byte[] wq = w.int8Values();
            int out = w.rows(), k = w.cols();
            float[] bias = l instanceof Linear lin ? lin.bias().value().data() : ((Conv2d) l).bias().value().data();
            int[] bq = new int[out];
            float[] ws = new float[out];
            for (int j = 0; j < out; j++) {
                ws[j] = w.scales().length == 1 ? w.scales()[0] : w.scales()[j];
                bq[j] = (int) Math.rint(bias[j] / ((double) sx * ws[j]));
            }
            int[][] acc;   // [sample*positions][out]
            int positions;
            int[] outShape;
            if (l instanceof Conv2d c) {
                int ch = shape[1], h = shape[2], wd = shape[3], kk = c.kernelSize(), pad = c.padding();
                int oh = h + 2 * pad - kk + 1, ow = wd + 2 * pad - kk + 1;
                positions = oh * ow;
                acc = new int[n * positions][out];
                for (int b = 0; b < n; b++) {
                    for (int y = 0; y < oh; y++) {
                        for (int x = 0; x < ow; x++) {
                            for (int o = 0; o < out; o++) {
                                int a = 0;
                                for (int ci = 0; ci < ch; ci++) {
                                    for (int dy = 0; dy < kk; dy++) {
                                        for (int dx = 0; dx < kk; dx++) {
                                            int iy = y + dy - pad, ix = x + dx - pad;
                                            int v = iy >= 0 && iy < h && ix >= 0 && ix < wd ? q[((b * ch + ci) * h + iy) * wd + ix] : zx;
                                            a += (v - zx) * wq[o * k + (ci * kk + dy) * kk + dx];
                                        }
                                    }
                                }
                                acc[b * positions + y * ow + x][o] = a;
                            }
                        }
                    }
                }
                outShape = new int[] {n, out, oh, ow};
            } else {
                positions = 1;
                acc = new int[n][out];
                for (int b = 0; b < n; b++) {
                    for (int o = 0; o < out; o++) {
                        int a = 0;
                        for (int j = 0; j < k; j++) a += (q[b * k + j] - zx) * wq[o * k + j];
                        acc[b][o] = a;
                    }
                }
                outShape = new int[] {n, out};
            }
            boolean floatConv = l instanceof Conv2d && k <= QuantizedConv2d.EXACT_FLOAT_K;
            if (floatConv) {
                // small convolutions rescale in float and requantize as the quantize step does
                float[] yf = new float[n * out * positions];
                for (int b = 0; b < n; b++) {
                    for (int pos = 0; pos < positions; pos++) {
                        for (int o = 0; o < out; o++) {
                            float v = Math.fma(sx * ws[o], (float) acc[b * positions + pos][o], bias[o]);
                            yf[(b * out + o) * positions + pos] = relu ? Math.max(v, 0f) : v;
                        }
                    }
                }
                if (next == null) return yf;
                int[] y = new int[yf.length];
                for (int j = 0; j < y.length; j++) {
                    y[j] = Quantization.quantize(yf[j], next.input().scales()[0], next.input().zeroPoints()[0], QuantRange.INT8);
                }
                q = y;
                shape = outShape;
                continue;
            }
            if (next == null) {
                // the last layer: dequantized to float
                float[] y = new float[n * out * positions];
                for (int b = 0; b < n; b++) {
                    for (int pos = 0; pos < positions; pos++) {
                        for (int o = 0; o < out; o++) {
                            float v = (float) (acc[b * positions + pos][o] + bq[o]) * (sx * ws[o]);
                            y[(b * out + o) * positions + pos] = relu ? Math.max(v, 0f) : v;
                        }
                    }
                }
                return y;
            }
            QuantParams nq = next.input();
            Int8Requantization rq = Int8Requantization.of(sx, ws, nq.scales()[0], nq.zeroPoints()[0], bq, relu);
            int[] y = new int[n * out * positions];
            for (int b = 0; b < n; b++) {
                for (int pos = 0; pos < positions; pos++) {
                    for (int o = 0; o < out; o++) y[(b * out + o) * positions + pos] = rq.requantize(acc[b * positions + pos][o], o);
                }
            }
            q = y;
            shape = outShape;
        }
        throw new AssertionError("no quantized last layer");
    }
}
