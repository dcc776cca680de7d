package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/**
 * An element-wise layer: the output has the input's shape, and the backward pass multiplies the
 * incoming gradient by the function's derivative at each element. Subclasses give the function
 * and its derivative side by side; this class keeps the buffers and the shapes.
 */
public abstract class Activation implements Layer {

    private final int[] shape;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;

    protected Activation(int[] shape) {
        this.shape = shape.clone();
    }

    /** {@code y[i] = f(x[i])} for {@code i < n}. */
    protected abstract void apply(float[] x, float[] y, int n);

    /** {@code gradIn[i] = gradOut[i] * f'(x[i])}, with {@code y = f(x)} at hand for functions whose derivative uses it. */
    protected abstract void derivative(float[] x, float[] y, float[] gradOut, float[] gradIn, int n);

    @Override
    public final Tensor forward(Tensor x, boolean training) {
        input = x;
        output = Buffers.ensure(output, x.shape());
        apply(x.data(), output.data(), x.size());
        return output;
    }

    @Override
    public final Tensor backward(Tensor gradOut) {
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        derivative(input.data(), output.data(), gradOut.data(), gradInput.data(), gradOut.size());
        return gradInput;
    }

    @Override
    public final int[] inputShape() {
        return shape.clone();
    }

    @Override
    public final int[] outputShape() {
        return shape.clone();
    }

    @Override
    public long flops() {
        return Buffers.product(shape);
    }
}
