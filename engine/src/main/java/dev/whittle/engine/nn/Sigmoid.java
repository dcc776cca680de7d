package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/** {@code 1 / (1 + exp(-x))}, element-wise; backward uses the saved output: {@code dx = dy * y * (1 - y)}. */
public final class Sigmoid implements Layer {

    private final int[] shape;
    private Tensor output;
    private Tensor gradInput;

    public Sigmoid(int[] shape) {
        this.shape = shape.clone();
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        output = Buffers.ensure(output, x.shape());
        float[] xd = x.data(), yd = output.data();
        // in double, exp(-x) overflows only for x < -709, and 1 / (1 + inf) = 0 is the right limit
        for (int i = 0; i < xd.length; i++) yd[i] = (float) (1.0 / (1.0 + StrictMath.exp(-xd[i])));
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        float[] y = output.data(), g = gradOut.data(), gi = gradInput.data();
        for (int i = 0; i < g.length; i++) gi[i] = g[i] * y[i] * (1f - y[i]);
        return gradInput;
    }

    @Override
    public int[] inputShape() {
        return shape.clone();
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return "sigmoid";
    }

    @Override
    public long flops() {
        return Buffers.product(shape);
    }
}
