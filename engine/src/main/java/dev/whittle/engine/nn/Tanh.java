package dev.whittle.engine.nn;

/** {@code tanh(x)}, element-wise; backward uses the saved output: {@code dx = dy * (1 - y^2)}. */
public final class Tanh extends Activation {

    public Tanh(int[] shape) {
        super(shape);
    }

    @Override
    protected void apply(float[] x, float[] y, int n) {
        // StrictMath: the same bits in the interpreter and in compiled code, for reproducibility
        for (int i = 0; i < n; i++) y[i] = (float) StrictMath.tanh(x[i]);
    }

    @Override
    protected void derivative(float[] x, float[] y, float[] gradOut, float[] gradIn, int n) {
        for (int i = 0; i < n; i++) gradIn[i] = gradOut[i] * (1f - y[i] * y[i]);
    }

    @Override
    public String spec() {
        return "tanh";
    }
}
