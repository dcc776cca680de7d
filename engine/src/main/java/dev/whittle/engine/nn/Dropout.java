package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;

/**
 * Inverted dropout (Srivastava et al. 2014): in training each element is zeroed with probability
 * p and the survivors scaled by 1/(1-p), so evaluation is the identity.
 */
public final class Dropout implements Layer {

    private final int[] shape;
    private final float p;
    private final Rng rng;
    private float[] mask = new float[0];
    private Tensor output;
    private Tensor gradInput;
    private boolean lastWasTraining;

    public Dropout(int[] shape, float p, Rng rng) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        this.shape = shape.clone();
        this.p = p;
        this.rng = rng;
    }

    public float probability() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        lastWasTraining = training && p > 0f;
        if (!lastWasTraining) return x;
        int n = x.size();
        if (mask.length != n) mask = new float[n];
        float keep = 1f / (1f - p);
        output = Buffers.ensure(output, x.shape());
        float[] xd = x.data(), yd = output.data();
        for (int i = 0; i < n; i++) {
            mask[i] = rng.nextDouble() < p ? 0f : keep;
            yd[i] = xd[i] * mask[i];
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        if (!lastWasTraining) return gradOut;
        gradInput = Buffers.ensure(gradInput, gradOut.shape());
        float[] g = gradOut.data(), gi = gradInput.data();
        for (int i = 0; i < g.length; i++) gi[i] = g[i] * mask[i];
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
        return "dropout(" + p + ")";
    }
}
