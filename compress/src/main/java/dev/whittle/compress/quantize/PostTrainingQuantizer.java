package dev.whittle.compress.quantize;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.engine.train.Batch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Post-training quantization of a trained FP32 model: each Linear and Conv2d gets round-to-nearest
 * symmetric integer weights (min-max scales per tensor, channel or group), and, for int8
 * activations, the input of each such layer gets the range a {@link MinMaxObserver} saw while the
 * float model ran over calibration samples drawn from the training split.
 */
public final class PostTrainingQuantizer {

    /** Calibration batches: big enough to amortise the layers' set-up, small in memory. */
    private static final int BATCH = 100;

    private PostTrainingQuantizer() {}

    /** Quantizes {@code model}, calibrating on samples of {@code train}; the float model is not changed. */
    public static QuantizedModel quantize(Sequential model, Dataset train, QuantizationConfig config) {
        List<Layer> layers = model.layers();
        Map<Integer, MinMaxObserver> observers = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            if (quantizable(layers.get(i)) && !config.keepFloat().contains(i)) observers.put(i, new MinMaxObserver());
        }
        if (config.activations() == ActivationMode.INT8) calibrate(model, train, config, observers);
        Map<Integer, QuantizedModel.LayerPlan> plans = new LinkedHashMap<>();
        for (int i : observers.keySet()) {
            Layer l = layers.get(i);
            QuantizedWeights w = roundToNearest(l, config);
            plans.put(i, new QuantizedModel.LayerPlan(w, config.activations(),
                    config.activations() == ActivationMode.INT8 ? observers.get(i).int8(config.symmetricActivations()) : null));
        }
        return QuantizedModel.build(model, plans);
    }

    /** Whether a layer has an integer form. */
    public static boolean quantizable(Layer l) {
        return l instanceof Linear || l instanceof Conv2d;
    }

    /** The layer's weights, {@code [out, in*k*k]}, quantized by {@code config}. */
    static QuantizedWeights roundToNearest(Layer l, QuantizationConfig config) {
        Tensor w = l instanceof Linear lin ? lin.weight().value() : ((Conv2d) l).weight().value();
        int rows = w.dim(0), cols = w.size() / rows;
        return QuantizedWeights.roundToNearest(w.data(), rows, cols, config.bits(), config.weights(), config.groupSize());
    }

    /** Runs the float model over the calibration samples, showing each observer its layer's input. */
    static void calibrate(Sequential model, Dataset train, QuantizationConfig config, Map<Integer, MinMaxObserver> observers) {
        int[] order = calibrationSamples(train.size(), config.calibrationSamples(), config.seed());
        Batch batch = new Batch(train, Math.min(BATCH, order.length));
        List<Layer> layers = model.layers();
        for (int from = 0; from < order.length; from += BATCH) {
            int count = Math.min(BATCH, order.length - from);
            Tensor x = batch.fill(train, order, from, count);
            for (int i = 0; i < layers.size(); i++) {
                MinMaxObserver o = observers.get(i);
                if (o != null) o.observe(x.data(), 0, x.size());
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
}
