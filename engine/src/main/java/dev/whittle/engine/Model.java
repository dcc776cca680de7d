package dev.whittle.engine;

/**
 * A model as its users run it: a batch in, a batch of outputs (logits) out. {@link
 * dev.whittle.engine.nn.Sequential} is the trainable FP32 form; {@link
 * dev.whittle.engine.quant.QuantizedModel} runs the same architecture on integer kernels.
 */
public interface Model {

    /** The outputs for a batch {@code [batch, inputShape...]}, in evaluation mode. */
    Tensor predict(Tensor batch);

    /** The architecture spec that describes the layers (a preset name or the free form). */
    String arch();

    /** The per-sample input shape. */
    int[] inputShape();

    /** The per-sample output shape. */
    int[] outputShape();

    /** Stored weights and biases, counted as values whatever their precision. */
    long parameterCount();

    /** Multiply-adds counted as two operations, for one sample's forward pass. */
    long flops();
}
