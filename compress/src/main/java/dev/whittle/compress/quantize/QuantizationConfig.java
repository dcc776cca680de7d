package dev.whittle.compress.quantize;

import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.kernels.QuantParams.Granularity;
import java.util.Set;

/**
 * What post-training quantization does: weight bits, granularity and rounding method, what the
 * activations become and how their ranges are calibrated, and which float-model transforms run
 * first.
 *
 * @param bits                 weight bits, 8 or 4
 * @param weights              per tensor or per channel (INT8), per group (INT4)
 * @param groupSize            elements per group along K for INT4 (32, 64 or 128), else 0
 * @param activations          INT8 (static, calibrated; required with INT8 weights), FLOAT or
 *                             INT8_DYNAMIC (with INT4 weights)
 * @param symmetricActivations zero point 0 rather than a calibrated one
 * @param calibration          the activation observer, as {@link Observers#parse} reads it
 * @param calibrationSamples   training samples the activation ranges (and GPTQ's Hessians) come from
 * @param seed                 which samples (a seeded draw from the training split)
 * @param keepFloat            indices of layers left in FP32
 * @param method               how weights are rounded
 * @param foldBatchNorm        fold batch norms into the layer before them first
 * @param equalize             cross-layer equalization of ReLU chains first
 * @param biasCorrection       correct each layer's bias for the mean shift its weight rounding causes
 * @param int8Layers           with INT4 weights: indices of layers quantized to INT8 instead (per-channel
 *                             weights, calibrated INT8 activations) — mixed precision, the layers too
 *                             sensitive for four bits
 */
public record QuantizationConfig(int bits, Granularity weights, int groupSize, ActivationMode activations,
                                 boolean symmetricActivations, String calibration, int calibrationSamples, long seed,
                                 Set<Integer> keepFloat, WeightMethod method, boolean foldBatchNorm, boolean equalize,
                                 boolean biasCorrection, Set<Integer> int8Layers) {

    /** How weights are rounded to integers. */
    public enum WeightMethod {
        /** Round to nearest with min-max scales. */
        RTN,
        /** GPTQ (Frantar et al. 2022): column by column, the rounding error pushed onto the columns not yet rounded. */
        GPTQ
    }

    public QuantizationConfig {
        if (bits != 8 && bits != 4) throw new IllegalArgumentException("bits must be 8 or 4, got " + bits);
        if (bits == 8 && weights == Granularity.PER_GROUP) throw new IllegalArgumentException("INT8 weights are per tensor or per channel");
        if (bits == 4 && weights != Granularity.PER_GROUP) throw new IllegalArgumentException("INT4 weights are per group (32, 64 or 128)");
        if (bits == 4 && groupSize != 32 && groupSize != 64 && groupSize != 128) {
            throw new IllegalArgumentException("INT4 group size must be 32, 64 or 128, got " + groupSize);
        }
        if (bits == 8 && activations != ActivationMode.INT8) throw new IllegalArgumentException("INT8 weights run with int8 activations");
        if (bits == 4 && activations == ActivationMode.INT8) {
            throw new IllegalArgumentException("INT4 weights run with fp32 activations or int8 activations quantized at run time");
        }
        if (calibrationSamples < 1) throw new IllegalArgumentException("calibration samples must be positive, got " + calibrationSamples);
        Observers.parse(calibration);
        keepFloat = Set.copyOf(keepFloat);
        int8Layers = Set.copyOf(int8Layers);
        if (bits == 8 && !int8Layers.isEmpty()) throw new IllegalArgumentException("INT8 layers are named only in an INT4 quantization");
    }

    /** W8A8, per-channel weights rounded to nearest, asymmetric activations by min-max on 1,000 samples: the default. */
    public static QuantizationConfig int8() {
        return new QuantizationConfig(8, Granularity.PER_CHANNEL, 0, ActivationMode.INT8, false, "minmax", 1000, 0L, Set.of(),
                WeightMethod.RTN, false, false, false, Set.of());
    }

    /** INT4 weights in groups of {@code groupSize}, rounded to nearest, with FP32 activations. */
    public static QuantizationConfig int4(int groupSize) {
        return new QuantizationConfig(4, Granularity.PER_GROUP, groupSize, ActivationMode.FLOAT, false, "minmax", 1000, 0L, Set.of(),
                WeightMethod.RTN, false, false, false, Set.of());
    }

    public QuantizationConfig withWeights(Granularity g, int group) {
        return new QuantizationConfig(bits, g, group, activations, symmetricActivations, calibration, calibrationSamples, seed,
                keepFloat, method, foldBatchNorm, equalize, biasCorrection, int8Layers);
    }

    public QuantizationConfig withActivations(ActivationMode mode, boolean symmetric) {
        return new QuantizationConfig(bits, weights, groupSize, mode, symmetric, calibration, calibrationSamples, seed,
                keepFloat, method, foldBatchNorm, equalize, biasCorrection, int8Layers);
    }

    public QuantizationConfig withCalibration(String observer, int samples, long seed) {
        return new QuantizationConfig(bits, weights, groupSize, activations, symmetricActivations, observer, samples, seed,
                keepFloat, method, foldBatchNorm, equalize, biasCorrection, int8Layers);
    }

    public QuantizationConfig withKeepFloat(Set<Integer> layers) {
        return new QuantizationConfig(bits, weights, groupSize, activations, symmetricActivations, calibration, calibrationSamples,
                seed, layers, method, foldBatchNorm, equalize, biasCorrection, int8Layers);
    }

    public QuantizationConfig withMethod(WeightMethod m) {
        return new QuantizationConfig(bits, weights, groupSize, activations, symmetricActivations, calibration, calibrationSamples,
                seed, keepFloat, m, foldBatchNorm, equalize, biasCorrection, int8Layers);
    }

    public QuantizationConfig withTransforms(boolean foldBn, boolean equalizeLayers, boolean correctBias) {
        return new QuantizationConfig(bits, weights, groupSize, activations, symmetricActivations, calibration, calibrationSamples,
                seed, keepFloat, method, foldBn, equalizeLayers, correctBias, int8Layers);
    }

    /** With INT4 weights, quantizes {@code layers} to INT8 instead (per channel, INT8 activations). */
    public QuantizationConfig withInt8Layers(Set<Integer> layers) {
        return new QuantizationConfig(bits, weights, groupSize, activations, symmetricActivations, calibration, calibrationSamples,
                seed, keepFloat, method, foldBatchNorm, equalize, biasCorrection, layers);
    }

    /** The config one layer is quantized with: this one, or INT8 per channel for a layer of {@link #int8Layers}. */
    public QuantizationConfig forLayer(int index) {
        if (!int8Layers.contains(index)) return this;
        return new QuantizationConfig(8, Granularity.PER_CHANNEL, 0, ActivationMode.INT8, symmetricActivations, calibration,
                calibrationSamples, seed, keepFloat, method, foldBatchNorm, equalize, biasCorrection, Set.of());
    }
}
