package dev.whittle.engine.optim;

import dev.whittle.engine.Parameter;
import java.util.List;

/**
 * Adam (Kingma and Ba 2015) and AdamW (Loshchilov and Hutter 2019), following PyTorch's update:
 * Adam adds {@code wd*w} to the gradient (L2), AdamW decays the weight directly
 * ({@code w *= 1 - lr*wd}) before the adaptive step. Defaults are PyTorch's: betas (0.9, 0.999),
 * eps 1e-8.
 */
public final class Adam implements Optimizer {

    private final List<Parameter> params;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final boolean decoupled;
    private final float[][] m;
    private final float[][] v;
    private float lr;
    private int t;

    public Adam(List<Parameter> params, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        this.params = List.copyOf(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.m = new float[params.size()][];
        this.v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).value().size()];
            v[i] = new float[params.get(i).value().size()];
        }
    }

    /** Adam with PyTorch's defaults and the given learning rate. */
    public static Adam adam(List<Parameter> params, float lr, float weightDecay) {
        return new Adam(params, lr, 0.9f, 0.999f, 1e-8f, weightDecay, false);
    }

    /** AdamW with PyTorch's defaults. */
    public static Adam adamW(List<Parameter> params, float lr, float weightDecay) {
        return new Adam(params, lr, 0.9f, 0.999f, 1e-8f, weightDecay, true);
    }

    @Override
    public void step() {
        t++;
        float c1 = 1f - (float) StrictMath.pow(beta1, t);
        float c2 = 1f - (float) StrictMath.pow(beta2, t);
        float stepSize = lr / c1;
        float sqrtC2 = (float) Math.sqrt(c2);
        for (int p = 0; p < params.size(); p++) {
            params.get(p).touch();
            float[] w = params.get(p).value().data();
            float[] g = params.get(p).grad().data();
            float[] mp = m[p], vp = v[p];
            boolean[] keep = params.get(p).mask();
            for (int i = 0; i < w.length; i++) {
                if (keep != null && !keep[i]) {
                    // pruned: no gradient, no moments, and the weight stays 0
                    w[i] = 0f;
                    mp[i] = 0f;
                    vp[i] = 0f;
                    continue;
                }
                float gi = g[i];
                if (weightDecay != 0f) {
                    if (decoupled) w[i] *= 1f - lr * weightDecay;
                    else gi += weightDecay * w[i];
                }
                mp[i] = beta1 * mp[i] + (1f - beta1) * gi;
                vp[i] = beta2 * vp[i] + (1f - beta2) * gi * gi;
                // PyTorch's form: w -= (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps)
                w[i] -= stepSize * mp[i] / ((float) Math.sqrt(vp[i]) / sqrtC2 + eps);
            }
        }
    }

    @Override
    public float learningRate() {
        return lr;
    }

    @Override
    public void setLearningRate(float lr) {
        this.lr = lr;
    }

    @Override
    public List<Parameter> parameters() {
        return params;
    }
}
