package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.Im2col;
import java.util.Arrays;

/**
 * Max pooling over {@code k x k} windows of each channel, PyTorch's {@code nn.MaxPool2d} without
 * padding: output size {@code floor((in - k) / stride) + 1}. Forward remembers where each maximum
 * was (the first in scan order on a tie, and a NaN wins, as in PyTorch); backward sends each output
 * gradient there, adding where overlapping windows chose the same pixel.
 */
public final class MaxPool2d implements Layer {

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
            int[] best = new int[outW]; // order key of each output's maximum so far, for one output row
            for (int p = from; p < to; p++) {
                for (int oy = 0; oy < outH; oy++) {
                    int corner = p * height * width + oy * stride * width, o = (p * outH + oy) * outW;
                    if (kernel == 2 && stride == 2) {
                        // LeNet's pooling, each window on its own: the first maximum of each row of
                        // the window, then the bottom one only if strictly larger, which is the
                        // first maximum in the order the general loop below scans (0,0), (0,1),
                        // (1,0), (1,1). LeNet-5's first pooling at batch 128 (half the inputs 0, as
                        // after a ReLU), one thread, medians of 200 calls in three runs: 0.97-1.00 ms
                        // against the general loop's 1.54-1.57 (and 1.74-1.75 with branches for the masks)
                        for (int ox = 0, i = corner; ox < outW; ox++, i += 2) {
                            int j = i + width;
                            int k0 = orderKey(xd[i]), k1 = orderKey(xd[i + 1]), k2 = orderKey(xd[j]), k3 = orderKey(xd[j + 1]);
                            // masks, not branches (random data makes a branch a coin toss): all ones when the later is larger
                            int right = (int) (((long) k0 - k1) >> 63), below = (int) (((long) k2 - k3) >> 63);
                            int top = i - right, kt = k0 ^ ((k0 ^ k1) & right);
                            int bottom = j - below, kb = k2 ^ ((k2 ^ k3) & below);
                            int lower = (int) (((long) kt - kb) >> 63);
                            int first = top ^ ((top ^ bottom) & lower);
                            at[o + ox] = first;
                            yd[o + ox] = xd[first];
                        }
                        continue;
                    }
                    for (int ox = 0; ox < outW; ox++) {
                        best[ox] = orderKey(xd[corner + ox * stride]);
                        at[o + ox] = corner + ox * stride;
                    }
                    // one kernel offset at a time across the whole output row: long loops, and the
                    // running maximum is chosen by masks, as random data makes a branch a coin toss
                    for (int ky = 0; ky < kernel; ky++) {
                        for (int kx = 0; kx < kernel; kx++) {
                            if (ky == 0 && kx == 0) continue;
                            int first = corner + ky * width + kx;
                            for (int ox = 0; ox < outW; ox++) {
                                int i = first + ox * stride, key = orderKey(xd[i]), max = best[ox];
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

    /**
     * An int ordered as the floats are, except that -0 sorts below +0 and every NaN above +infinity
     * (so a NaN in a window wins and propagates, as in PyTorch).
     */
    private static int orderKey(float v) {
        int bits = Float.floatToIntBits(v); // NaNs come out as one positive pattern
        return bits ^ ((bits >> 31) & 0x7fffffff);
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
