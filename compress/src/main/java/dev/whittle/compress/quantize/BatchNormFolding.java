package dev.whittle.compress.quantize;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import java.util.ArrayList;
import java.util.List;

/**
 * Folds each batch norm that directly follows a Linear or Conv2d into that layer's weights and
 * bias, so the quantized model has one layer (and one rounding) where the float model had two
 * (Jacob et al. 2018, section 3.2). In evaluation mode batch norm is the affine map
 * {@code y = gamma (x - mean) / sqrt(var + eps) + beta}, per channel, so with
 * {@code a = gamma / sqrt(var + eps)}:
 *
 * <pre>
 *   W'[o] = a[o] W[o]          b'[o] = a[o] (b[o] - mean[o]) + beta[o]
 * </pre>
 *
 * The result is a new model whose architecture lists the same tokens without the folded {@code bn};
 * a batch norm after anything else (a ReLU, a pooling) stays.
 */
public final class BatchNormFolding {

    private BatchNormFolding() {}

    /** A folded copy of {@code model} (the model itself is not changed); the same model if nothing folds. */
    public static Sequential fold(Sequential model) throws BadInputException {
        List<Layer> layers = model.layers();
        List<String> tokens = new ArrayList<>();
        boolean any = false;
        for (int i = 0; i < layers.size(); i++) {
            if (folds(layers, i)) {
                any = true;
                continue;
            }
            tokens.add(layers.get(i).spec());
        }
        if (!any) return model;
        Sequential folded = ArchSpec.build(String.join(" ", tokens), model.inputShape(), 0L);
        int j = 0;
        for (int i = 0; i < layers.size(); i++) {
            if (folds(layers, i)) continue;
            Layer from = layers.get(i), to = folded.layers().get(j++);
            Sequential.copyState(from, to);
            if (i + 1 < layers.size() && folds(layers, i + 1)) foldInto(to, (BatchNorm) layers.get(i + 1));
        }
        return folded;
    }

    /** Whether layer i is a batch norm right after a Linear or Conv2d. */
    private static boolean folds(List<Layer> layers, int i) {
        return i > 0 && layers.get(i) instanceof BatchNorm && (layers.get(i - 1) instanceof Linear || layers.get(i - 1) instanceof Conv2d);
    }

    private static void foldInto(Layer layer, BatchNorm bn) {
        float[] w = ((WeightedLayer) layer).weight().value().data(), b = ((WeightedLayer) layer).bias().value().data();
        float[] gamma = bn.weight().value().data(), beta = bn.bias().value().data();
        float[] mean = bn.runningMean().data(), var = bn.runningVar().data();
        int channels = b.length, per = w.length / channels;
        for (int o = 0; o < channels; o++) {
            // the same float steps as BatchNorm's evaluation pass
            float invStd = (float) (1.0 / Math.sqrt((double) var[o] + BatchNorm.EPS));
            float a = gamma[o] * invStd;
            for (int p = o * per; p < (o + 1) * per; p++) w[p] *= a;
            b[o] = a * (b[o] - mean[o]) + beta[o];
        }
    }
}
