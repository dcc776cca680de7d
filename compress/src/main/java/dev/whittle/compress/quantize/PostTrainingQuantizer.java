package dev.whittle.compress.quantize;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.engine.train.Batch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Post-training quantization of a trained FP32 model:
 *
 * <ol>
 * <li>optionally fold batch norms ({@link BatchNormFolding}) and equalize ReLU chains
 *     ({@link CrossLayerEqualization}) on a copy of the model;
 * <li>run the float model over calibration samples drawn from the training split, showing each
 *     Linear's and Conv2d's input to an {@link Observer} (its activation range), to a mean (for bias
 *     correction) and to a {@link HessianAccumulator} (for GPTQ);
 * <li>round the weights (to nearest with min-max scales, or by GPTQ), and with bias correction
 *     subtract from each bias the shift the rounding causes on average, {@code (W_q - W) E[x]}
 *     (Nagel et al. 2019, with E[x] measured on the calibration data);
 * <li>build the {@link QuantizedModel}.
 * </ol>
 */
public final class PostTrainingQuantizer {

    /** Calibration batches: big enough to amortise the layers' set-up, small in memory. */
    private static final int BATCH = 100;

    private PostTrainingQuantizer() {}

    /** The float model after the config's transforms, and the quantized model built from it. */
    public record Result(Sequential prepared, QuantizedModel quantized) {}

    /** Quantizes {@code model}, calibrating on samples of {@code train}; the model itself is not changed. */
    public static QuantizedModel quantize(Sequential model, Dataset train, QuantizationConfig config) {
        return run(model, train, config).quantized();
    }

    /** {@link #quantize}, also returning the float model the quantization started from (after folding, equalizing). */
    public static Result run(Sequential model, Dataset train, QuantizationConfig config) {
        Sequential prepared = prepare(model, config);
        List<Layer> layers = prepared.layers();
        Map<Integer, LayerStatistics> stats = new LinkedHashMap<>();
        Supplier<Observer> observer = Observers.parse(config.calibration());
        for (int i = 0; i < layers.size(); i++) {
            if (quantizable(layers.get(i)) && !config.keepFloat().contains(i)) {
                stats.put(i, new LayerStatistics(layers.get(i), observer.get(), config.biasCorrection(),
                        config.method() == QuantizationConfig.WeightMethod.GPTQ));
            }
        }
        boolean needData = config.activations() == ActivationMode.INT8 || !config.int8Layers().isEmpty() || config.biasCorrection()
                || config.method() == QuantizationConfig.WeightMethod.GPTQ;
        if (needData) calibrate(prepared, train, config, stats);
        Map<Integer, QuantizedModel.LayerPlan> plans = new LinkedHashMap<>();
        for (Map.Entry<Integer, LayerStatistics> e : stats.entrySet()) {
            Layer l = layers.get(e.getKey());
            LayerStatistics s = e.getValue();
            QuantizationConfig lc = config.forLayer(e.getKey());
            QuantizedWeights w = lc.method() == QuantizationConfig.WeightMethod.GPTQ ? s.gptq(l, lc) : roundToNearest(l, lc);
            float[] bias = lc.biasCorrection() ? s.correctedBias(l, w) : null;
            plans.put(e.getKey(), new QuantizedModel.LayerPlan(w, lc.activations(),
                    lc.activations() == ActivationMode.INT8 ? s.observer.int8(lc.symmetricActivations()) : null, bias));
        }
        return new Result(prepared, QuantizedModel.build(prepared, plans));
    }

    /** The model the quantization starts from: folded and equalized copies as configured, else the model itself. */
    static Sequential prepare(Sequential model, QuantizationConfig config) {
        Sequential m = model;
        try {
            if (config.foldBatchNorm()) m = BatchNormFolding.fold(m);
            if (config.equalize()) {
                if (m == model) m = model.copy();
                CrossLayerEqualization.equalize(m);
            }
        } catch (BadInputException e) {
            throw new IllegalStateException("a model's own layers did not rebuild: " + e.getMessage(), e);
        }
        return m;
    }

    /** Whether a layer has an integer form. */
    public static boolean quantizable(Layer l) {
        return l instanceof WeightedLayer;
    }

    /** The layer's weights, {@code [out, in*k*k]}, rounded to nearest as {@code config} says. */
    static QuantizedWeights roundToNearest(Layer l, QuantizationConfig config) {
        Tensor w = ((WeightedLayer) l).weight().value();
        int rows = w.dim(0), cols = w.size() / rows;
        return QuantizedWeights.roundToNearest(w.data(), rows, cols, config.bits(), config.weights(), config.groupSize());
    }

    /** Runs the float model over the calibration samples, showing each layer's input to its statistics. */
    static void calibrate(Sequential model, Dataset train, QuantizationConfig config, Map<Integer, LayerStatistics> stats) {
        int[] order = calibrationSamples(train.size(), config.calibrationSamples(), config.seed());
        Batch batch = new Batch(train, Math.min(BATCH, order.length));
        List<Layer> layers = model.layers();
        for (int from = 0; from < order.length; from += BATCH) {
            int count = Math.min(BATCH, order.length - from);
            Tensor x = batch.fill(train, order, from, count);
            for (int i = 0; i < layers.size(); i++) {
                LayerStatistics s = stats.get(i);
                if (s != null) s.observe(x);
                x = layers.get(i).forward(x, false);
            }
        }
    }

    /** The first {@code n} indices of a seeded shuffle of {@code 0..size-1} (all of them if fewer). */
    static int[] calibrationSamples(int size, int n, long seed) {
        int[] all = new int[size];
        for (int i = 0; i < size; i++) all[i] = i;
        Rng rng = new Rng(seed);
        int take = Math.min(n, size);
        for (int i = 0; i < take; i++) {
            int j = i + rng.nextInt(size - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, take);
    }

    /** What calibration learns about one layer's input. */
    static final class LayerStatistics {
        final Layer layer;
        final Observer observer;
        /** Per input feature (Linear) or channel (Conv2d): the sum of the inputs, for their mean. */
        final double[] sums;
        long count;
        final HessianAccumulator hessian;

        LayerStatistics(Layer l, Observer observer, boolean means, boolean hessian) {
            this.layer = l;
            this.observer = observer;
            int features = l instanceof Linear lin ? lin.inFeatures() : ((Conv2d) l).inChannels();
            this.sums = means ? new double[features] : null;
            int cols = ((WeightedLayer) l).inputsPerOutput();
            this.hessian = hessian ? new HessianAccumulator(cols) : null;
        }

        void observe(Tensor x) {
            observer.observe(x.data(), 0, x.size());
            int batch = x.dim(0), per = x.size() / batch;
            if (sums != null) {
                int spatial = per / sums.length;
                float[] d = x.data();
                for (int n = 0; n < batch; n++) {
                    for (int c = 0; c < sums.length; c++) {
                        double s = 0;
                        for (int i = (n * sums.length + c) * spatial, e = i + spatial; i < e; i++) s += d[i];
                        sums[c] += s;
                    }
                }
                count += (long) batch * spatial;
            }
            if (hessian != null) {
                if (layer instanceof Conv2d c) hessian.addConv(x.data(), batch, c.inputShape(), c.kernelSize(), c.stride(), c.padding());
                else hessian.addRows(x.data(), 0, batch);
            }
        }

        QuantizedWeights gptq(Layer l, QuantizationConfig config) {
            Tensor w = ((WeightedLayer) l).weight().value();
            int rows = w.dim(0), cols = w.size() / rows;
            return Gptq.quantize(w.data(), rows, cols, hessian.hessian(), config.bits(), config.weights(), config.groupSize(),
                    0.01, 128);
        }

        /** {@code b - (W_q - W) E[x]}, E[x] per input feature or channel (a convolution's padding is not counted apart). */
        float[] correctedBias(Layer l, QuantizedWeights q) {
            Tensor w = ((WeightedLayer) l).weight().value();
            float[] b = ((WeightedLayer) l).bias().value().data().clone();
            int rows = w.dim(0), cols = w.size() / rows, block = cols / sums.length;
            for (int o = 0; o < rows; o++) {
                double shift = 0;
                for (int p = 0; p < cols; p++) {
                    double mean = sums[p / block] / count;
                    shift += ((double) q.dequantized(o, p) - w.data()[o * cols + p]) * mean;
                }
                b[o] = (float) (b[o] - shift);
            }
            return b;
        }
    }
}
