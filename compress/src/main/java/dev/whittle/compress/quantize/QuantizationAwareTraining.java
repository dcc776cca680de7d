package dev.whittle.compress.quantize;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantization-aware training (Jacob et al. 2018): fine-tunes a copy of the FP32 model for a few
 * epochs with every quantized layer's weights ({@link FakeQuantWeights}) and, for int8
 * activations, its input ({@link FakeQuantActivations}) rounded in the forward pass as the integer
 * model will round them, so the weights learn to sit well on the grid; then converts to the real
 * integer layers. The activation ranges start from a post-training calibration and follow the
 * training batches. The conversion rounds the fine-tuned weights exactly as the fake quantization
 * did, so the integer model computes what was trained.
 */
public final class QuantizationAwareTraining {

    private QuantizationAwareTraining() {}

    /** The quantized model and the fine-tuning epochs. */
    public record Result(QuantizedModel quantized, Sequential fineTuned, List<EpochStats> epochs) {}

    /**
     * Fine-tunes and converts. {@code model} is not changed; {@code test} (may be null) is only
     * evaluated after each epoch for the listener, never used to decide anything.
     */
    public static Result run(Sequential model, Dataset train, Dataset test, QuantizationConfig config, TrainConfig training,
                             TrainingListener listener) {
        // start from the post-training result: its prepared (folded, equalized) copy and its ranges
        Sequential base = PostTrainingQuantizer.prepare(model, config).copy();
        QuantizedModel start = PostTrainingQuantizer.quantize(base, train, config.withTransforms(false, false, false));
        List<Layer> layers = base.layers(), wrapped = new ArrayList<>();
        Map<Integer, FakeQuantActivations> inputs = new LinkedHashMap<>();
        List<FakeQuantWeights> weights = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (!PostTrainingQuantizer.quantizable(l) || config.keepFloat().contains(i)) {
                wrapped.add(l);
                continue;
            }
            QuantizationConfig lc = config.forLayer(i);
            if (lc.activations() == ActivationMode.INT8) {
                var p = inputOf(start, i);
                float s = p.scales()[0];
                int z = p.zeroPoints()[0];
                FakeQuantActivations a = new FakeQuantActivations(l.inputShape(), config.symmetricActivations(),
                        (-128 - z) * s, (127 - z) * s);
                inputs.put(i, a);
                wrapped.add(a);
            }
            FakeQuantWeights w = new FakeQuantWeights(l, lc.bits(), lc.weights(), lc.groupSize());
            weights.add(w);
            wrapped.add(w);
        }
        Sequential qat = new Sequential(base.arch(), base.inputShape(), wrapped);
        List<EpochStats> history = Trainer.fit(qat, train, test, training, listener);
        for (FakeQuantWeights w : weights) w.restore();
        Map<Integer, QuantizedModel.LayerPlan> plans = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (!PostTrainingQuantizer.quantizable(l) || config.keepFloat().contains(i)) continue;
            QuantizedWeights q = PostTrainingQuantizer.roundToNearest(l, config.forLayer(i));
            FakeQuantActivations a = inputs.get(i);
            plans.put(i, new QuantizedModel.LayerPlan(q, config.forLayer(i).activations(), a == null ? null : a.params()));
        }
        return new Result(QuantizedModel.build(base, plans), base, history);
    }

    private static dev.whittle.kernels.QuantParams inputOf(QuantizedModel q, int index) {
        var layer = q.quantizedLayers().get(index);
        if (layer instanceof dev.whittle.engine.quant.QuantizedLinear l) return l.inputQuantization();
        return ((dev.whittle.engine.quant.QuantizedConv2d) layer).inputQuantization();
    }
}
