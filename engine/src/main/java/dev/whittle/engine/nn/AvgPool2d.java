package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.Im2col;
import java.util.Arrays;

/**
 * Average pooling over {@code k x k} windows of each channel, PyTorch's {@code nn.AvgPool2d}
 * without padding: output size {@code floor((in - k) / stride) + 1}, each output the window's sum
 * divided by {@code k*k}; backward spreads each output gradient evenly over its window.
 */
public final class AvgPool2d implements Layer {

    private final int channels, height, width;
    private final int kernel, stride;
    private final int outH, outW;
    private final float area;
    private Tensor output;
    private Tensor gradInput;

    public AvgPool2d(int[] inputShape, int kernel, int stride) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("avgpool needs a [channels, height, width] input, got " + Arrays.toString(inputShape));
        }
        this.channels = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
        this.kernel = kernel;
        this.stride = stride;
        this.outH = Im2col.outputSize(height, kernel, stride, 0);
        this.outW = Im2col.outputSize(width, kernel, stride, 0);
        this.area = kernel * kernel;
    }

    public int kernelSize() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int batch = x.dim(0);
        output = Buffers.ensure(output, batch, channels, outH, outW);
        float[] xd = x.data(), yd = output.data();
        int planes = batch * channels;
        Parts.run(planes, Parts.count(planes, (long) height * width), (part, from, to) -> {
            for (int p = from; p < to; p++) {
                for (int oy = 0; oy < outH; oy++) {
                    int corner = p * height * width + oy * stride * width, o = (p * outH + oy) * outW;
                    Arrays.fill(yd, o, o + outW, 0f);
                    // one kernel offset at a time across the output row: long inner loops instead
                    // of k-long ones, and each output still sums its window in (ky, kx) order
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) {
                            int first = corner + ky * width + kx;
                            for (int ox = 0; ox < outW; ox++) yd[o + ox] += xd[first + ox * stride];
                        }
                    }
                    for (int ox = 0; ox < outW; ox++) yd[o + ox] /= area;
                }
            }
        });
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int batch = output.dim(0);
        gradInput = Buffers.ensure(gradInput, batch, channels, height, width);
        float[] g = gradOut.data(), gi = gradInput.data();
        int planes = batch * channels;
        Parts.run(planes, Parts.count(planes, (long) height * width), (part, from, to) -> {
            Arrays.fill(gi, from * height * width, to * height * width, 0f);
            for (int p = from; p < to; p++) {
                for (int oy = 0; oy < outH; oy++) {
                    int corner = p * height * width + oy * stride * width, o = (p * outH + oy) * outW;
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) {
                            int first = corner + ky * width + kx;
                            for (int ox = 0; ox < outW; ox++) gi[first + ox * stride] += g[o + ox] / area;
                        }
                    }
                }
            }
        });
        return gradInput;
    }

    @Override
    public int[] inputShape() {
        return new int[] {channels, height, width};
    }

    @Override
    public int[] outputShape() {
        return new int[] {channels, outH, outW};
    }

    @Override
    public String spec() {
        return "avgpool(" + kernel + (stride != kernel ? "," + stride : "") + ")";
    }

    /** One addition per window element. */
    @Override
    public long flops() {
        return (long) channels * outH * outW * kernel * kernel;
    }
}
