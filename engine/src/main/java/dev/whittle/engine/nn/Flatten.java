package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/** Views {@code [batch, c, h, w]} as {@code [batch, c*h*w]} (row-major, so no data moves). */
public final class Flatten implements Layer {

    private final int[] in;
    private final int features;

    public Flatten(int[] inputShape) {
        this.in = inputShape.clone();
        this.features = Buffers.product(inputShape);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        return x.reshape(x.dim(0), features);
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        return gradOut.reshape(Buffers.batched(gradOut.dim(0), in));
    }

    @Override
    public int[] inputShape() {
        return in.clone();
    }

    @Override
    public int[] outputShape() {
        return new int[] {features};
    }

    @Override
    public String spec() {
        return "flatten";
    }
}
