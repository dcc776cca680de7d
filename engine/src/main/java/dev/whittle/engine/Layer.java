package dev.whittle.engine;

import java.util.List;

/**
 * One step of a {@link Sequential} model: forward and backward side by side.
 *
 * <p>A layer is built for a known per-sample input shape (the batch dimension excluded) and
 * keeps what its backward pass needs from the last forward call. Activations carry the batch as
 * their first dimension.
 */
public interface Layer {

    /** Computes the output for a batch; {@code training} selects dropout and batch statistics. */
    Tensor forward(Tensor input, boolean training);

    /**
     * Given the loss gradient with respect to the last forward call's output, accumulates the
     * parameter gradients and returns the gradient with respect to that call's input.
     */
    Tensor backward(Tensor gradOutput);

    /** The per-sample input shape this layer was built for. */
    int[] inputShape();

    /** The per-sample output shape. */
    int[] outputShape();

    /** The token of the architecture spec that builds this layer, e.g. {@code linear(300)}. */
    String spec();

    /** Trainable parameters, in state-dict order. */
    default List<Parameter> parameters() {
        return List.of();
    }

    /**
     * State that is saved but not trained (batch norm's running mean and variance), as
     * name/tensor pairs in state-dict order.
     */
    default List<NamedTensor> buffers() {
        return List.of();
    }

    /**
     * Tells the layer whether {@link #backward} must return the input gradient. A model's first
     * trainable layer is told no (nothing uses the gradient with respect to the data, and for a
     * first convolution it is half the backward work); a layer that cannot skip it ignores this.
     * When not needed, {@code backward} may return {@code null}.
     */
    default void setInputGradientNeeded(boolean needed) {}

    /** Multiply-adds counted as two operations, for one sample's forward pass. */
    default long flops() {
        return 0;
    }
}
