package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Batch normalisation (Ioffe and Szegedy 2015): each channel is shifted and scaled to zero mean
 * and unit variance, then by a learnt {@code weight} and {@code bias}. Training uses the batch's
 * statistics (the biased variance) and folds them into running estimates, {@code running =
 * (1 - momentum) running + momentum batch}, with the <em>unbiased</em> variance, as PyTorch does;
 * evaluation uses the running estimates. Defaults are PyTorch's: momentum 0.1, eps 1e-5, weight 1,
 * bias 0, running mean 0 and variance 1.
 *
 * <p>Activations are {@code [batch, channels, spatial...]}; a channel's statistics run over the
 * batch and the spatial positions. {@link BatchNorm1d} has no spatial positions, {@link BatchNorm2d}
 * has {@code h*w}.
 *
 * <pre>
 *   forward   xhat = (x - mean) / sqrt(var + eps)          y = weight * xhat + bias
 *   backward  dweight += sum(dy * xhat)   dbias += sum(dy)
 *             training:   dx = weight / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
 *             evaluation: dx = weight / sqrt(var + eps) * dy   (the statistics are constants)
 * </pre>
 */
public abstract sealed class BatchNorm implements Layer permits BatchNorm1d, BatchNorm2d {

    public static final float MOMENTUM = 0.1f;
    public static final float EPS = 1e-5f;

    private final int[] shape;
    private final int channels;
    private final int spatial;
    private final Parameter weight;
    private final Parameter bias;
    private final Tensor runningMean;
    private final Tensor runningVar;

    // per channel, from the last forward: the statistics used and sums for backward
    private final double[] mean;
    private final float[] invStd;
    private final double[] sumA;
    private final double[] sumB;
    private boolean lastWasTraining;
    private Tensor normalised;   // xhat, kept for backward
    private Tensor output;
    private Tensor gradInput;

    BatchNorm(int[] shape) {
        if (shape.length == 0 || Buffers.product(shape) < 1) {
            throw new IllegalArgumentException("batch norm needs a non-empty [channels, ...] shape, got " + Arrays.toString(shape));
        }
        this.shape = shape.clone();
        this.channels = shape[0];
        this.spatial = Buffers.product(shape) / channels;
        this.weight = new Parameter("weight", Tensor.zeros(channels));
        this.bias = new Parameter("bias", Tensor.zeros(channels));
        Arrays.fill(weight.value().data(), 1f);
        this.runningMean = Tensor.zeros(channels);
        this.runningVar = Tensor.zeros(channels);
        Arrays.fill(runningVar.data(), 1f);
        this.mean = new double[channels];
        this.invStd = new float[channels];
        this.sumA = new double[channels];
        this.sumB = new double[channels];
    }

    public int channels() {
        return channels;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int batch = x.dim(0);
        float[] xd = x.data();
        float[] rm = runningMean.data(), rv = runningVar.data();
        lastWasTraining = training;
        if (training) {
            long count = (long) batch * spatial;
            if (count < 2) {
                throw new IllegalArgumentException("batch norm in training needs more than one value per channel, got input "
                        + Arrays.toString(x.shape()));
            }
            channelSums(xd, batch, null, sumA);
            for (int c = 0; c < channels; c++) mean[c] = sumA[c] / count;
            // a second pass over the deviations: no cancellation as in E[x^2] - E[x]^2
            channelSums(xd, batch, mean, sumB);
            for (int c = 0; c < channels; c++) {
                double biased = sumB[c] / count;
                invStd[c] = (float) (1.0 / Math.sqrt(biased + EPS));
                rm[c] = (1 - MOMENTUM) * rm[c] + MOMENTUM * (float) mean[c];
                rv[c] = (1 - MOMENTUM) * rv[c] + MOMENTUM * (float) (sumB[c] / (count - 1));
            }
        } else {
            for (int c = 0; c < channels; c++) {
                mean[c] = rm[c];
                invStd[c] = (float) (1.0 / Math.sqrt((double) rv[c] + EPS));
            }
        }
        normalised = Buffers.ensure(normalised, x.shape());
        output = Buffers.ensure(output, x.shape());
        float[] xh = normalised.data(), yd = output.data(), w = weight.value().data(), b = bias.value().data();
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                float m = (float) mean[c], s = invStd[c], wc = w[c], bc = b[c];
                for (int i = (n * channels + c) * spatial, e = i + spatial; i < e; i++) {
                    float h = (xd[i] - m) * s;
                    xh[i] = h;
                    yd[i] = wc * h + bc;
                }
            }
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int batch = output.dim(0);
        float[] g = gradOut.data(), xh = normalised.data();
        gradInput = Buffers.ensure(gradInput, output.shape());
        float[] gi = gradInput.data(), w = weight.value().data();
        float[] dw = weight.grad().data(), db = bias.grad().data();
        Arrays.fill(sumA, 0);
        Arrays.fill(sumB, 0);
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                double dy = 0, dyXhat = 0;
                for (int i = (n * channels + c) * spatial, e = i + spatial; i < e; i++) {
                    dy += g[i];
                    dyXhat += (double) g[i] * xh[i];
                }
                sumA[c] += dy;
                sumB[c] += dyXhat;
            }
        }
        long count = (long) batch * spatial;
        for (int c = 0; c < channels; c++) {
            db[c] += (float) sumA[c];
            dw[c] += (float) sumB[c];
        }
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                float scale = w[c] * invStd[c];
                // in training the mean and variance depend on x too: remove the gradient's
                // component along the constant and along xhat
                float meanDy = lastWasTraining ? (float) (sumA[c] / count) : 0f;
                float meanDyXhat = lastWasTraining ? (float) (sumB[c] / count) : 0f;
                for (int i = (n * channels + c) * spatial, e = i + spatial; i < e; i++) {
                    gi[i] = scale * (g[i] - meanDy - xh[i] * meanDyXhat);
                }
            }
        }
        return gradInput;
    }

    /** {@code sums[c] = sum over the channel of x}, or of {@code (x - center[c])^2} when a center is given. */
    private void channelSums(float[] x, int batch, double[] center, double[] sums) {
        Arrays.fill(sums, 0);
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                double s = 0;
                int i = (n * channels + c) * spatial, e = i + spatial;
                if (center == null) {
                    for (; i < e; i++) s += x[i];
                } else {
                    double m = center[c];
                    for (; i < e; i++) {
                        double d = x[i] - m;
                        s += d * d;
                    }
                }
                sums[c] += s;
            }
        }
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
        return "bn";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public List<NamedTensor> buffers() {
        return List.of(new NamedTensor("running_mean", runningMean), new NamedTensor("running_var", runningVar));
    }

    /** A scale and a shift per element (the statistics folded into them). */
    @Override
    public long flops() {
        return 2L * Buffers.product(shape);
    }
}
