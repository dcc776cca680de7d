package dev.whittle.engine.nn;

import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;

/** {@code max(x, 0)}, element-wise; the gradient passes where the input was positive. */
public final class ReLU extends Activation {

    private static final FloatKernels K = Kernels.fp32();

    public ReLU(int[] shape) {
        super(shape);
    }

    @Override
    protected void apply(float[] x, float[] y, int n) {
        K.relu(x, y, n);
    }

    @Override
    protected void derivative(float[] x, float[] y, float[] gradOut, float[] gradIn, int n) {
        K.reluBackward(x, gradOut, gradIn, n);
    }

    @Override
    public String spec() {
        return "relu";
    }
}
