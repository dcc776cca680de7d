package dev.whittle.compress.quantize;

import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.kernels.QuantParams.Granularity;
import java.util.Set;

/**
 * What post-training quantization does: weight bits and granularity, what the activations become,
 * and how many training samples calibrate them.
 *
 * @param bits                weight bits, 8 or 4
 * @param weights             per tensor or per channel (INT8), per group (INT4)
 * @param groupSize           elements per group along K for INT4 (32, 64 or 128), else 0
 * @param activations         INT8 (static, calibrated; required with INT8 weights), FLOAT or
 *                            INT8_DYNAMIC (with INT4 weights)
 * @param symmetricActivations zero point 0 rather than a calibrated one
 * @param calibrationSamples  training samples the activation ranges are taken from
 * @param seed                which samples (a seeded draw from the training split)
 * @param keepFloat           indices of layers left in FP32
 */
public record QuantizationConfig(int bits, Granularity weights, int groupSize, ActivationMode activations,
                                 boolean symmetricActivations, int calibrationSamples, long seed, Set<Integer> keepFloat) {

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
        keepFloat = Set.copyOf(keepFloat);
    }

    /** W8A8, per-channel weights, asymmetric activations calibrated on 1,000 samples: the default. */
    public static QuantizationConfig int8() {
        return new QuantizationConfig(8, Granularity.PER_CHANNEL, 0, ActivationMode.INT8, false, 1000, 0L, Set.of());
    }

    /** INT4 weights in groups of {@code groupSize} with FP32 activations. */
    public static QuantizationConfig int4(int groupSize) {
        return new QuantizationConfig(4, Granularity.PER_GROUP, groupSize, ActivationMode.FLOAT, false, 1000, 0L, Set.of());
    }
}
