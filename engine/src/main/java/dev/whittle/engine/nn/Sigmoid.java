package dev.whittle.engine.nn;

/** {@code 1 / (1 + e^-x)}, element-wise; backward uses the saved output: {@code dx = dy * y * (1 - y)}. */
public final class Sigmoid extends Activation {

    public Sigmoid(int[] shape) {
        super(shape);
    }

    @Override
    protected void apply(float[] x, float[] y, int n) {
        // StrictMath: the same bits in the interpreter and in compiled code, for reproducibility
        for (int i = 0; i < n; i++) y[i] = (float) (1.0 / (1.0 + StrictMath.exp(-x[i])));
    }

    @Override
    protected void derivative(float[] x, float[] y, float[] gradOut, float[] gradIn, int n) {
        for (int i = 0; i < n; i++) gradIn[i] = gradOut[i] * y[i] * (1f - y[i]);
    }

    @Override
    public String spec() {
        return "sigmoid";
    }
}
