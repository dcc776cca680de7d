package dev.whittle.engine;

/**
 * A model as its users run it: a batch in, a batch of outputs (logits) out. {@link
 * dev.whittle.engine.nn.Sequential} is the trainable FP32 form; {@link
 * dev.whittle.engine.quant.QuantizedModel} runs the same architecture on integer kernels.
 */
public interface Model {

    /**
     * The outputs for a batch {@code [batch, inputShape...]}, in evaluation mode, as a new tensor
     * the caller keeps (a later call does not change it). Calls on one model from several threads
     * are safe but run one at a time, since the layers reuse their buffers; to predict in parallel,
     * load one model per thread (the kernels share out each product among the pool's threads anyway).
     */
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
