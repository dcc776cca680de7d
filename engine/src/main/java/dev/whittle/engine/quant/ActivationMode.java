package dev.whittle.engine.quant;

/** What a quantized Linear or Conv2d takes as input. */
public enum ActivationMode {
    /**
     * Int8 with one (scale, zero point) per tensor calibrated ahead of time (static); the layer's
     * output is requantized to the next layer's input scale, so consecutive layers stay in integers.
     */
    INT8,
    /** FP32 activations (weight-only quantization: INT4 weights unpacked in registers). */
    FLOAT,
    /** Int8 quantized per group of each input row at run time (W4A8), FP32 in and out. */
    INT8_DYNAMIC;

    /** The name used in model files and reports. */
    public String label() {
        return switch (this) {
            case INT8 -> "int8";
            case FLOAT -> "fp32";
            case INT8_DYNAMIC -> "int8-dynamic";
        };
    }

    /** The mode with this label, or null. */
    public static ActivationMode ofLabel(String label) {
        for (ActivationMode m : values()) if (m.label().equals(label)) return m;
        return null;
    }
}
