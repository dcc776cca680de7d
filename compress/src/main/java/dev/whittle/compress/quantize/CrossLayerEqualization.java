package dev.whittle.compress.quantize;

import dev.whittle.engine.Layer;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Dropout;
import dev.whittle.engine.nn.Flatten;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.MaxPool2d;
import dev.whittle.engine.nn.ReLU;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import java.util.ArrayList;
import java.util.List;

/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
 * and Bias Correction"): ReLU and max pooling commute with a positive per-channel scale, so output
 * channel i of one layer can be divided by {@code s_i} and the matching inputs of the next layer
 * multiplied by it without changing what the model computes. Choosing
 * {@code s_i = sqrt(r1_i / r2_i)} (r1: the range of channel i's weights in the first layer, r2: the
 * range of its inputs' weights in the second) gives both the same range {@code sqrt(r1_i r2_i)},
 * so one per-tensor scale fits every channel better. Pairs are equalized in turn, repeatedly,
 * until the scales settle.
 *
 * <p>Pairs: a Linear or Conv2d, a ReLU, then any of max pooling, flatten and dropout, then a Linear
 * or Conv2d (through a flatten, input channel i of the second layer is the block of features
 * {@code [i * h * w, (i + 1) * h * w)}). The model is changed in place.
 */
public final class CrossLayerEqualization {

    private static final int MAX_PASSES = 20;
    private static final double SETTLED = 1e-4;

    private CrossLayerEqualization() {}

    /** A pair of layers to equalize, by index. */
    record Pair(int first, int second) {}

    /** Equalizes every pair of {@code model} in place; returns the number of pairs. */
    public static int equalize(Sequential model) {
        List<Pair> pairs = pairs(model.layers());
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            double change = 0;
            for (Pair p : pairs) change = Math.max(change, equalize(model.layers().get(p.first()), model.layers().get(p.second())));
            if (change < SETTLED) break;
        }
        return pairs.size();
    }

    static List<Pair> pairs(List<Layer> layers) {
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i + 2 < layers.size(); i++) {
            if (!weighted(layers.get(i)) || !(layers.get(i + 1) instanceof ReLU)) continue;
            int j = i + 2;
            while (j < layers.size() && (layers.get(j) instanceof MaxPool2d || layers.get(j) instanceof Flatten
                    || layers.get(j) instanceof Dropout || layers.get(j) instanceof ReLU)) j++;
            if (j < layers.size() && weighted(layers.get(j))) pairs.add(new Pair(i, j));
        }
        return pairs;
    }

    private static boolean weighted(Layer l) {
        return l instanceof WeightedLayer;
    }

    /** One equalization step; returns the largest |log s_i| applied. */
    private static double equalize(Layer first, Layer second) {
        float[] w1 = ((WeightedLayer) first).weight().value().data(), b1 = ((WeightedLayer) first).bias().value().data();
        float[] w2 = ((WeightedLayer) second).weight().value().data();
        int channels = b1.length, per1 = w1.length / channels;
        int outs2 = ((WeightedLayer) second).outputChannels(), in2 = w2.length / outs2;
        if (in2 % channels != 0) throw new IllegalArgumentException(second.spec() + " does not take " + channels + " channels");
        int block = in2 / channels;   // inputs of the second layer per channel of the first (k*k, or h*w through a flatten)
        double change = 0;
        for (int c = 0; c < channels; c++) {
            float r1 = 0f, r2 = 0f;
            for (int p = c * per1; p < (c + 1) * per1; p++) r1 = Math.max(r1, Math.abs(w1[p]));
            for (int o = 0; o < outs2; o++) {
                for (int p = o * in2 + c * block; p < o * in2 + (c + 1) * block; p++) r2 = Math.max(r2, Math.abs(w2[p]));
            }
            if (r1 == 0f || r2 == 0f) continue;
            float s = (float) Math.sqrt((double) r1 / r2);
            for (int p = c * per1; p < (c + 1) * per1; p++) w1[p] /= s;
            b1[c] /= s;
            for (int o = 0; o < outs2; o++) {
                for (int p = o * in2 + c * block; p < o * in2 + (c + 1) * block; p++) w2[p] *= s;
            }
            change = Math.max(change, Math.abs(Math.log(s)));
        }
        // the weights changed in place: layers that keep something derived from them must know
        for (var p : first.parameters()) p.touch();
        for (var p : second.parameters()) p.touch();
        return change;
    }
}
