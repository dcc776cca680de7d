package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import java.util.Arrays;

/**
 * The mean of each channel over all positions, {@code [batch, c, h, w] -> [batch, c]} (PyTorch's
 * {@code AdaptiveAvgPool2d(1)} followed by a flatten, Lin et al. 2014), so a linear layer can
 * follow directly.
 */
public final class GlobalAvgPool implements Layer {

    private final int channels, height, width;
    private Tensor output;
    private Tensor gradInput;

    public GlobalAvgPool(int[] inputShape) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("gap needs a [channels, height, width] input, got " + Arrays.toString(inputShape));
        }
        this.channels = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int batch = x.dim(0), area = height * width;
        output = Buffers.ensure(output, batch, channels);
        float[] xd = x.data(), yd = output.data();
        for (int p = 0; p < batch * channels; p++) {
            float sum = 0f;
            for (int i = p * area, e = i + area; i < e; i++) sum += xd[i];
            yd[p] = sum / area;
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int batch = output.dim(0), area = height * width;
        gradInput = Buffers.ensure(gradInput, batch, channels, height, width);
        float[] g = gradOut.data(), gi = gradInput.data();
        for (int p = 0; p < batch * channels; p++) Arrays.fill(gi, p * area, (p + 1) * area, g[p] / area);
        return gradInput;
    }

    @Override
    public int[] inputShape() {
        return new int[] {channels, height, width};
    }

    @Override
    public int[] outputShape() {
        return new int[] {channels};
    }

    @Override
    public String spec() {
        return "gap";
    }

    @Override
    public long flops() {
        return (long) channels * height * width;
    }
}
