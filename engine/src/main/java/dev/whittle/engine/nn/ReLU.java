package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;

/** {@code max(x, 0)}, element-wise; the gradient passes where the input was positive. */
public final class ReLU implements Layer {

    private static final FloatKernels K = Kernels.fp32();

    private final int[] shape;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;

    public ReLU(int[] shape) {
        this.shape = shape.clone();
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        input = x;
        output = Buffers.ensure(output, x.shape());
        K.relu(x.data(), output.data(), x.size());
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        K.reluBackward(input.data(), gradOut.data(), gradInput.data(), gradOut.size());
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
        return "relu";
    }

    @Override
    public long flops() {
        return Buffers.product(shape);
    }
}
