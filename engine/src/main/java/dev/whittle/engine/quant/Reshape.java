package dev.whittle.engine.quant;

/** Flatten (or inference-time dropout): the same values, seen with another per-sample shape. */
final class Reshape implements QuantizedLayer {

    private final int[] shape;
    private final String spec;

    Reshape(int[] shape, String spec) {
        this.shape = shape.clone();
        this.spec = spec;
    }

    @Override
    public Activations forward(Activations x) {
        return x.reshape(shape);
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return spec;
    }

    @Override
    public String precision() {
        return "-";
    }
}
