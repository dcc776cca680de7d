package dev.whittle.compress.quantize;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Evaluator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Per-layer sensitivity to quantization: each Linear and Conv2d is quantized alone, the rest of the
 * model left in FP32, and the accuracy it costs is measured. The layers that cost most are the ones
 * to keep in higher precision ({@code --keep-float}).
 */
public final class Sensitivity {

    /** One layer's result: the model's accuracy with only this layer quantized, and the drop from FP32 in points. */
    public record LayerResult(int index, String layer, double accuracy, double dropPoints) {}

    private Sensitivity() {}

    /**
     * Quantizes each layer of {@code model} alone as {@code config} says (calibrating on {@code
     * train}) and evaluates on {@code test} against {@code baselineAccuracy}.
     */
    public static List<LayerResult> analyze(Sequential model, Dataset train, Dataset test, QuantizationConfig config,
                                            double baselineAccuracy) {
        List<Layer> layers = model.layers();
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            if (PostTrainingQuantizer.quantizable(layers.get(i))) candidates.add(i);
        }
        List<LayerResult> results = new ArrayList<>();
        for (int i : candidates) {
            Set<Integer> others = new HashSet<>(candidates);
            others.remove(i);
            // the transforms change the layer list (folding removes batch norms): analyse the plain model
            QuantizationConfig alone = config.withKeepFloat(others).withTransforms(false, false, config.biasCorrection());
            double acc = Evaluator.evaluate(PostTrainingQuantizer.quantize(model, train, alone), test, 256).accuracy();
            results.add(new LayerResult(i, layers.get(i).spec(), acc, 100 * (baselineAccuracy - acc)));
        }
        return results;
    }
}
