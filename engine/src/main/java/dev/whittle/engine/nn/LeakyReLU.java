package dev.whittle.engine.nn;

/**
 * {@code x > 0 ? x : slope * x}, element-wise (Maas et al. 2013): a ReLU that keeps a small
 * gradient for negative inputs. PyTorch's default slope is 0.01.
 */
public final class LeakyReLU extends Activation {

    public static final float DEFAULT_SLOPE = 0.01f;

    private final float slope;

    public LeakyReLU(int[] shape, float slope) {
        super(shape);
        if (!Float.isFinite(slope)) throw new IllegalArgumentException("leaky ReLU slope must be finite, got " + slope);
        this.slope = slope;
    }

    public float slope() {
        return slope;
    }

    @Override
    protected void apply(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) y[i] = x[i] > 0f ? x[i] : slope * x[i];
    }

    @Override
    protected void derivative(float[] x, float[] y, float[] gradOut, float[] gradIn, int n) {
        for (int i = 0; i < n; i++) gradIn[i] = x[i] > 0f ? gradOut[i] : slope * gradOut[i];
    }

    @Override
    public String spec() {
        return "leakyrelu(" + slope + ")";
    }
}
