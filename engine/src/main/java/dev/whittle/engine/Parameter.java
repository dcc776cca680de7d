package dev.whittle.engine;

/**
 * A trainable tensor and the gradient the backward pass accumulates into it. Its state-dict name
 * is the owning layer's index and this local name ({@code "2.weight"}).
 */
public final class Parameter {

    private final String localName;
    private final Tensor value;
    private final Tensor grad;

    public Parameter(String localName, Tensor value) {
        this.localName = localName;
        this.value = value;
        this.grad = Tensor.zeros(value.shape());
    }

    /** The name within its layer: {@code weight}, {@code bias}. */
    public String localName() {
        return localName;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }
}
