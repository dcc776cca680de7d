package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/** {@code tanh(x)}, element-wise; backward uses the saved output: {@code dx = dy * (1 - y^2)}. */
public final class Tanh implements Layer {

    private final int[] shape;
    private Tensor output;
    private Tensor gradInput;

    public Tanh(int[] shape) {
        this.shape = shape.clone();
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        output = Buffers.ensure(output, x.shape());
        float[] xd = x.data(), yd = output.data();
        for (int i = 0; i < xd.length; i++) yd[i] = (float) StrictMath.tanh(xd[i]);
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        float[] y = output.data(), g = gradOut.data(), gi = gradInput.data();
        for (int i = 0; i < g.length; i++) gi[i] = g[i] * (1f - y[i] * y[i]);
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
        return "tanh";
    }

    @Override
    public long flops() {
        return Buffers.product(shape);
    }
}
