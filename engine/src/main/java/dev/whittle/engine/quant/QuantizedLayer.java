package dev.whittle.engine.quant;

/**
 * One step of a {@link QuantizedModel}: inference only, on float or int8 {@link Activations}.
 * Besides the quantized Linear and Conv2d there are the steps between them: quantize the input,
 * dequantize the output, pooling and ReLU on int8 values, and FP32 layers that stay in float.
 */
public interface QuantizedLayer {

    /** Computes this step for a batch; the result is this step's own buffer, valid until the next call. */
    Activations forward(Activations x);

    /** The per-sample output shape. */
    int[] outputShape();

    /** The architecture token of the layer this step runs, e.g. {@code linear(300)}, or the step's name. */
    String spec();

    /** The number formats it runs in, e.g. {@code int8 per-channel, int8 activations}. */
    String precision();

    /** Multiply-adds counted as two operations, for one sample. */
    default long flops() {
        return 0;
    }
}
