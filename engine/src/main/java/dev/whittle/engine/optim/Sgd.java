package dev.whittle.engine.optim;

import dev.whittle.engine.Parameter;
import java.util.List;

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with
 * the update rule of PyTorch's {@code torch.optim.SGD} (dampening 0):
 * {@code g += wd*w; buf = mu*buf + g; w -= lr * (nesterov ? g + mu*buf : buf)}.
 */
public final class Sgd implements Optimizer {

    private final List<Parameter> params;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private final float[][] velocity;
    private float lr;

    public Sgd(List<Parameter> params, float lr, float momentum, boolean nesterov, float weightDecay) {
        if (nesterov && momentum <= 0f) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        this.params = List.copyOf(params);
        this.lr = lr;
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.velocity = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) velocity[i] = new float[params.get(i).value().size()];
    }

    @Override
    public void step() {
        for (int p = 0; p < params.size(); p++) {
            params.get(p).touch();
            float[] w = params.get(p).value().data();
            float[] g = params.get(p).grad().data();
            float[] v = velocity[p];
            boolean[] keep = params.get(p).mask();
            for (int i = 0; i < w.length; i++) {
                if (keep != null && !keep[i]) {
                    // pruned: no gradient, no momentum, and the weight stays 0
                    w[i] = 0f;
                    v[i] = 0f;
                    continue;
                }
                float d = g[i] + weightDecay * w[i];
                if (momentum != 0f) {
                    v[i] = momentum * v[i] + d;
                    d = nesterov ? d + momentum * v[i] : v[i];
                }
                w[i] -= lr * d;
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
