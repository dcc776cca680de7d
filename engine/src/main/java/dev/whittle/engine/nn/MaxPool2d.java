package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Im2col;
import dev.whittle.kernels.Kernels;
import java.util.Arrays;

/**
 * Max pooling over {@code k x k} windows of each channel, PyTorch's {@code nn.MaxPool2d} without
 * padding: output size {@code floor((in - k) / stride) + 1}. Forward remembers where each maximum
 * was (the first in scan order on a tie, and a NaN wins, as in PyTorch); backward sends each output
 * gradient there, adding where overlapping windows chose the same pixel.
 */
public final class MaxPool2d implements Layer {

    private static final FloatKernels K = Kernels.fp32();

    private final int channels, height, width;
    private final int kernel, stride;
    private final int outH, outW;
    private int[] argmax = new int[0];   // per output element: the index of its maximum in the input
    private Tensor output;
    private Tensor gradInput;

    public MaxPool2d(int[] inputShape, int kernel, int stride) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("maxpool needs a [channels, height, width] input, got " + Arrays.toString(inputShape));
        }
        this.channels = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
        this.kernel = kernel;
        this.stride = stride;
        this.outH = Im2col.outputSize(height, kernel, stride, 0);
        this.outW = Im2col.outputSize(width, kernel, stride, 0);
    }

    public int kernelSize() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    /**
     * Evaluation needs the maxima only, not where they were: {@code Math.max} per pixel (it lets a
     * NaN through, as the training pass's ordering does), with LeNet's 2x2, stride 2 written out.
     * No backward may follow.
     */
    private Tensor infer(Tensor x) {
        int batch = x.dim(0);
        output = Buffers.ensure(output, batch, channels, outH, outW);
        argmax = new int[0];   // a backward after this is a programming error: it finds no argmax
        float[] xd = x.data(), yd = output.data();
        int planes = batch * channels;
        Parts.run(planes, Parts.count(planes, (long) height * width), (part, from, to) -> {
            for (int p = from; p < to; p++) {
                for (int oy = 0; oy < outH; oy++) {
                    int corner = p * height * width + oy * stride * width, o = (p * outH + oy) * outW;
                    if (kernel == 2 && stride == 2) {
                        for (int ox = 0, r0 = corner, r1 = corner + width; ox < outW; ox++, r0 += 2, r1 += 2) {
                            yd[o + ox] = Math.max(Math.max(xd[r0], xd[r0 + 1]), Math.max(xd[r1], xd[r1 + 1]));
                        }
                        continue;
                    }
                    for (int ox = 0; ox < outW; ox++) {
                        float m = xd[corner + ox * stride];
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0, i = corner + ky * width + ox * stride; kx < kernel; kx++) m = Math.max(m, xd[i + kx]);
                        }
                        yd[o + ox] = m;
                    }
                }
            }
        });
        return output;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (!training) return infer(x);
        int batch = x.dim(0);
        output = Buffers.ensure(output, batch, channels, outH, outW);
        if (argmax.length != output.size()) argmax = new int[output.size()];
        float[] xd = x.data(), yd = output.data();
        int[] at = argmax;
        int planes = batch * channels;
        Parts.run(planes, Parts.count(planes, (long) height * width), (part, from, to) -> {
            if (kernel == 2 && stride == 2) {
                // LeNet's pooling: the kernel takes each window on its own, several at a time
                K.maxPool2x2(xd, height, width, from, to, yd, at);
                return;
            }
            int[] best = new int[outW]; // order key of each output's maximum so far, for one output row
            for (int p = from; p < to; p++) {
                for (int oy = 0; oy < outH; oy++) {
                    int corner = p * height * width + oy * stride * width, o = (p * outH + oy) * outW;
                    for (int ox = 0; ox < outW; ox++) {
                        best[ox] = FloatKernels.poolKey(xd[corner + ox * stride]);
                        at[o + ox] = corner + ox * stride;
                    }
                    // one kernel offset at a time across the whole output row: long loops, and the
                    // running maximum is chosen by masks, as random data makes a branch a coin toss
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) {
                            if (ky == 0 && kx == 0) continue;
                            int first = corner + ky * width + kx;
                            for (int ox = 0; ox < outW; ox++) {
                                int i = first + ox * stride, key = FloatKernels.poolKey(xd[i]), max = best[ox];
                                int larger = (int) (((long) max - key) >> 63); // all ones when key > max
                                best[ox] = max ^ ((max ^ key) & larger);
                                at[o + ox] ^= (at[o + ox] ^ i) & larger;
                            }
                        }
                    }
                    for (int ox = 0; ox < outW; ox++) yd[o + ox] = xd[at[o + ox]];
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
        int[] at = argmax;
        int planes = batch * channels, inPlane = height * width, outPlane = outH * outW;
        // a window's maximum lies in its own channel plane, so planes can be handled in parallel
        Parts.run(planes, Parts.count(planes, (long) height * width), (part, from, to) -> {
            Arrays.fill(gi, from * inPlane, to * inPlane, 0f);
            for (int o = from * outPlane, e = to * outPlane; o < e; o++) gi[at[o]] += g[o];
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
        return "maxpool(" + kernel + (stride != kernel ? "," + stride : "") + ")";
    }

    /** One comparison per window element. */
    @Override
    public long flops() {
        return (long) channels * outH * outW * kernel * kernel;
    }
}
