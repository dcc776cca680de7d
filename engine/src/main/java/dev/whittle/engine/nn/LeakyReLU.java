package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/**
 * {@code x > 0 ? x : slope * x}, element-wise (Maas et al. 2013): a ReLU that keeps a small
 * gradient for negative inputs. PyTorch's default slope is 0.01.
 */
public final class LeakyReLU implements Layer {

    public static final float DEFAULT_SLOPE = 0.01f;

    private final int[] shape;
    private final float slope;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;

    public LeakyReLU(int[] shape, float slope) {
        if (!Float.isFinite(slope)) throw new IllegalArgumentException("leaky ReLU slope must be finite, got " + slope);
        this.shape = shape.clone();
        this.slope = slope;
    }

    public float slope() {
        return slope;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        input = x;
        output = Buffers.ensure(output, x.shape());
        float[] xd = x.data(), yd = output.data();
        for (int i = 0; i < xd.length; i++) yd[i] = xd[i] > 0f ? xd[i] : slope * xd[i];
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        float[] xd = input.data(), g = gradOut.data(), gi = gradInput.data();
        for (int i = 0; i < g.length; i++) gi[i] = xd[i] > 0f ? g[i] : slope * g[i];
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
        return "leakyrelu(" + slope + ")";
    }

    @Override
    public long flops() {
        return Buffers.product(shape);
    }
}
