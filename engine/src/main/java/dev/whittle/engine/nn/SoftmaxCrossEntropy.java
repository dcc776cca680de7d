package dev.whittle.engine.nn;

import dev.whittle.engine.Tensor;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;

/**
 * Softmax followed by the negative log-likelihood, fused: the loss is computed from a stable
 * log-softmax and the gradient with respect to the logits is {@code (softmax - onehot) / batch},
 * as in PyTorch's {@code CrossEntropyLoss} with mean reduction.
 */
public final class SoftmaxCrossEntropy {

    private static final FloatKernels K = Kernels.fp32();

    private Tensor logProbs;
    private Tensor grad;
    private int[] labels;

    /** The mean loss over the batch; remembers what {@link #backward} needs. */
    public float forward(Tensor logits, int[] labels) {
        int batch = logits.dim(0), classes = logits.dim(1);
        if (labels.length < batch) throw new IllegalArgumentException(labels.length + " labels for a batch of " + batch);
        logProbs = Buffers.ensure(logProbs, batch, classes);
        K.logSoftmax(batch, classes, logits.data(), logProbs.data());
        this.labels = labels;
        double loss = 0;
        float[] lp = logProbs.data();
        for (int i = 0; i < batch; i++) {
            int y = labels[i];
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " outside 0.." + (classes - 1));
            loss -= lp[i * classes + y];
        }
        return (float) (loss / batch);
    }

    /** The gradient of the last forward's mean loss with respect to the logits. */
    public Tensor backward() {
        int batch = logProbs.dim(0), classes = logProbs.dim(1);
        grad = Buffers.ensure(grad, batch, classes);
        float[] lp = logProbs.data(), g = grad.data();
        float inv = 1f / batch;
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j < classes; j++) {
                int o = i * classes + j;
                g[o] = ((float) StrictMath.exp(lp[o]) - (j == labels[i] ? 1f : 0f)) * inv;
            }
        }
        return grad;
    }
}
