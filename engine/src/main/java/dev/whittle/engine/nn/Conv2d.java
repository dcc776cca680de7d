package dev.whittle.engine.nn;

import dev.whittle.engine.Init;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Im2col;
import dev.whittle.kernels.Kernels;
import java.util.Arrays;
import java.util.List;

/**
 * A 2-D convolution over NCHW activations with a square kernel, zero padding and a bias: PyTorch's
 * {@code nn.Conv2d} with {@code groups=1}, weight stored {@code [out, in, k, k]}.
 *
 * <p>Each sample is lowered to one matrix product through im2col (Chellapilla et al. 2006):
 * with the weight seen as {@code W[out, in*k*k]} and the sample's columns {@code X[in*k*k, oh*ow]},
 *
 * <pre>
 *   forward    Y    = W . X + b           (gemmNN)
 *   backward   dW  += dY . X^T            (gemmNN; X^T rebuilt by im2row rather than kept per sample)
 *              db  += row sums of dY
 *              dX    = col2im(W^T . dY)   (gemmTN, then col2im)
 * </pre>
 *
 * The weight gradient takes {@code dY} as stored and {@code X^T} written directly by
 * {@link Im2col#im2row}, so both operands of its GEMM are row-major and nothing is transposed;
 * every weight's gradient is the same FMA chain over the output positions as in the earlier form
 * {@code dW^T += X . dY^T} (im2col, a transpose of {@code dY}, and a GEMM that packed {@code X}
 * across its rows), so the bits did not change. Weight and bias gradient of one image, one
 * thread, medians of 21 interleaved rounds in two runs (earlier / now, us): LeNet-5's 1->6 5x5 on
 * 28 x 28 with pad 2 36.7-39.6 / 21.7-25.9 (its GEMM alone 22.5-24.7 / 10.1-12.1), 6->16 on
 * 14 x 14 24.3-28.0 / 15.9-17.9; 3->32 3x3 on 32 x 32 104-107 / 76-82, 32->64 on 16 x 16
 * 191-195 / 179.
 *
 * <p>With few filters on a large image (stride 1, at most {@link #DIRECT_GRADIENT_MAX_OUT} filters, at least
 * {@link #DIRECT_GRADIENT_MIN_PLANE} output pixels) the weight gradient is computed directly,
 * {@link FloatKernels#conv2dWeightGradient}, with the same bits again: the GEMM pads the 6 x 25
 * product of LeNet-5's first convolution to two 6 x 16 tiles, and im2row writes 25 floats a pixel
 * for it. The input gradient stays {@code gemmTN} + col2im: a direct form with the
 * same bits (each row of {@code W^T . dY} computed 64 pixels at a time as eight FMA chains over
 * the filters, then added onto the image as col2im adds it, so the 150 x 100 product never went
 * through memory) ran 0.87-0.95x on LeNet-5's second convolution and 0.68-0.88x with 32 filters
 * ({@code ConvKernelBenchmark}, two runs).
 *
 * <p>Samples are spread over the thread pool; every scratch buffer belongs to one part and is
 * reused across steps. The weight gradient is summed per fixed group of samples and the groups are
 * added in order, so it is bit-identical whatever the thread count.
 */
public final class Conv2d implements WeightedLayer {

    private static final FloatKernels K = Kernels.fp32();
    /**
     * A stride-1 forward pass with at most this many inputs per output (in * k * k) and at most
     * {@link #DIRECT_MAX_OUT} output channels runs as a direct convolution rather than im2col +
     * GEMM: the same bits, without writing k*k floats per pixel nor wasting most of a 6-row
     * register tile on 3 to 8 filters. Measured per image, one thread, medians of 41 interleaved
     * rounds on a loaded host (direct / lowered): 1->6 5x5 pad 2 on 28x28 13.3 / 22.0 us, 6->16 on
     * 14x14 29.8 / 37.5, 1->3 10.8 / 22.6, 3->8 11.1 / 14.8; but 1->32 63.7 / 45.3, 32->64 864 /
     * 432, 3->32 3x3 on 32x32 97 / 73: with many filters the GEMM's tile is full and wins. The bound
     * was 16 filters until the GEMM got faster on small products; measured again (2026-12-07, medians
     * of 15 rounds): 1->6 5x5 pad 2 on 28 x 28 12.2 / 13.9 us, 1->8 16.4 / 17.7, 6->8 5x5 on 14 x 14
     * 14.9 / 19.2, 3->8 3x3 on 32 x 32 23.6 / 24.6; 6->12 31.3 / 30.4; 6->16 (LeNet-5's second)
     * 29.0 / 21.8, 1->16 5x5 44.5 / 35.0, 3->16 3x3 46.7 / 34.0, 8->16 3x3 on 16 x 16 28.4 / 22.8.
     * The bound went up to 12 when the direct kernel took two filters at a time (eight FMA chains
     * instead of four); {@code ConvKernelBenchmark}, batches of 32, one thread, medians of 21
     * per-round ratios in two runs (direct's speed-up over im2col + GEMM): 1->6 5x5 pad 2 on
     * 28 x 28 1.62-1.65x, 1->8 1.64-1.65x, 6->8 5x5 on 14 x 14 1.59-1.60x, 6->12 1.10-1.11x; with
     * 16 filters no clear winner: 6->16 (LeNet-5's second) 0.96-1.00x, 1->16 5x5 on 28 x 28
     * 1.10-1.16x, 3->16 3x3 on 32 x 32 1.06-1.11x, 8->16 3x3 on 16 x 16 0.98x.
     */
    public static final int DIRECT_MAX_PATCH = 256;
    public static final int DIRECT_MAX_OUT = 12;
    /** The most filters for which a stride-1 weight gradient may run directly (see {@link #DIRECT_GRADIENT_MIN_PLANE}). */
    public static final int DIRECT_GRADIENT_MAX_OUT = 8;
    /**
     * The fewest output pixels for which a stride-1 weight gradient with at most
     * {@link #DIRECT_GRADIENT_MAX_OUT} filters runs directly ({@link FloatKernels#conv2dWeightGradient})
     * rather than as im2row + GEMM: the direct kernel keeps six output channels' gradients in
     * registers over all the pixels, so it pays per tile and per image row, and small planes
     * favour the GEMM. {@code ConvKernelBenchmark}, batches of 32, one thread, medians of 15
     * interleaved rounds (speed-up of the direct kernel): 1->6 5x5 pad 2 on 28 x 28 (784 pixels)
     * 2.59x, 1->8 1.70x, 3->8 3x3 pad 1 on 32 x 32 1.19x; 6->8 5x5 on 14 x 14 (100 pixels) 0.85x,
     * 6->16 0.67x, 3->32 3x3 on 32 x 32 0.65x.
     */
    public static final int DIRECT_GRADIENT_MIN_PLANE = 256;
    /** At most this many sample groups share out the weight gradient (enough parts for a big machine). */
    private static final int MAX_GROUPS = 32;
    /** ...and their partial weight gradients together stay under this many floats (16 MB). */
    private static final int PARTIAL_FLOATS = 1 << 22;

    private final int inC, height, width;
    private final int outC, kernel, stride, pad;
    private final int outH, outW;
    private final int plane;   // oh*ow: columns of the lowered product
    private final int patch;   // in*k*k: rows of the column matrix
    private final Parameter weight;
    private final Parameter bias;

    private Tensor input;
    private Tensor output;
    private Tensor gradInput;
    private boolean inputGradientNeeded = true;
    private Scratch[] scratch = new Scratch[0];        // one per part
    private float[] weightPartials = new float[0];     // one [out x patch] gradient per sample group
    private float[][] biasPartials = new float[0][];   // one [out] gradient per sample group

    /**
     * A part's working matrices for one sample at a time: {@code columns} holds im2col's matrix in
     * forward and im2row's (its transpose) in backward.
     */
    private record Scratch(float[] columns, float[] columnGrads) {}

    /**
     * A convolution of {@code inputShape = [channels, height, width]} to {@code outChannels}
     * channels, initialised as PyTorch does (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in*k*k).
     */
    public Conv2d(int[] inputShape, int outChannels, int kernel, int stride, int pad, Rng rng) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("conv needs a [channels, height, width] input, got " + Arrays.toString(inputShape));
        }
        if (outChannels < 1 || kernel < 1 || stride < 1 || pad < 0) {
            throw new IllegalArgumentException("conv needs positive out channels, kernel and stride and a non-negative pad, got "
                    + outChannels + ", " + kernel + ", " + stride + ", " + pad);
        }
        this.inC = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
        this.outC = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
        this.outH = Im2col.outputSize(height, kernel, stride, pad);
        this.outW = Im2col.outputSize(width, kernel, stride, pad);
        this.plane = outH * outW;
        this.patch = inC * kernel * kernel;
        this.weight = new Parameter("weight", Tensor.zeros(outC, inC, kernel, kernel));
        this.bias = new Parameter("bias", Tensor.zeros(outC));
        Init.pytorchDefault(weight.value(), patch, rng);
        Init.pytorchDefault(bias.value(), patch, rng);
    }

    public int inChannels() {
        return inC;
    }

    public int outChannels() {
        return outC;
    }

    public int kernelSize() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return pad;
    }

    @Override
    public Parameter weight() {
        return weight;
    }

    @Override
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int batch = x.dim(0);
        input = x;
        output = Buffers.ensure(output, batch, outC, outH, outW);
        float[] xd = x.data(), yd = output.data(), w = weight.value().data(), b = bias.value().data();
        int inSize = inC * height * width, outSize = outC * plane;
        int parts = Parts.count(batch, flops() / 2);
        ensureScratch(parts);
        Parts.run(batch, parts, (part, from, to) -> {
            float[] cols = scratch[part].columns();
            for (int s = from; s < to; s++) {
                int y0 = s * outSize;
                if (stride == 1 && patch <= DIRECT_MAX_PATCH && outC <= DIRECT_MAX_OUT) {
                    K.conv2dDirect(xd, s * inSize, inC, height, width, w, b, outC, kernel, pad, yd, y0);
                    continue;
                }
                // start each output row at its bias so the product can accumulate onto it
                for (int o = 0; o < outC; o++) Arrays.fill(yd, y0 + o * plane, y0 + (o + 1) * plane, b[o]);
                Im2col.im2col(xd, s * inSize, inC, height, width, kernel, stride, pad, cols, 0);
                K.gemmNN(outC, plane, patch, w, 0, cols, 0, yd, y0, true);
            }
        });
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int batch = input.dim(0);
        if (inputGradientNeeded) gradInput = Buffers.ensure(gradInput, batch, inC, height, width);
        float[] xd = input.data(), gd = gradOut.data(), gxd = inputGradientNeeded ? gradInput.data() : null, w = weight.value().data();
        int inSize = inC * height * width, outSize = outC * plane, wSize = outC * patch;
        int groups = groups(batch);
        if (weightPartials.length < groups * wSize) weightPartials = new float[groups * wSize];
        if (biasPartials.length < groups) biasPartials = new float[groups][outC];
        float[] wp = weightPartials;
        float[][] bp = biasPartials;
        boolean directGradient = stride == 1 && outC <= DIRECT_GRADIENT_MAX_OUT && plane >= DIRECT_GRADIENT_MIN_PLANE;
        // backward is two products per sample, each the size of forward's (flops()/2 multiply-adds)
        int parts = Parts.count(groups, flops() * batch / groups);
        ensureScratch(parts);
        Parts.run(groups, parts, (part, g0, g1) -> {
            float[] rows = scratch[part].columns(), dcols = scratch[part].columnGrads();
            for (int g = g0; g < g1; g++) {
                int first = Parts.start(g, groups, batch), end = Parts.start(g + 1, groups, batch);
                for (int s = first; s < end; s++) {
                    boolean accumulate = s > first;
                    int x0 = s * inSize, y0 = s * outSize;
                    if (directGradient) {
                        K.conv2dWeightGradient(xd, x0, inC, height, width, gd, y0, outC, kernel, pad, wp, g * wSize, accumulate);
                    } else {
                        Im2col.im2row(xd, x0, inC, height, width, kernel, stride, pad, rows, 0);
                        K.gemmNN(outC, patch, plane, gd, y0, rows, 0, wp, g * wSize, accumulate);
                    }
                    rowSums(gd, y0, outC, plane, bp[g], accumulate);
                    if (gxd == null) continue;
                    K.gemmTN(patch, plane, outC, w, 0, gd, y0, dcols, 0, false);
                    Arrays.fill(gxd, x0, x0 + inSize, 0f);
                    Im2col.col2im(dcols, 0, inC, height, width, kernel, stride, pad, gxd, x0);
                }
            }
        });
        // the groups are fixed by the batch size alone and added in order: no dependence on threads
        for (int g = 1; g < groups; g++) {
            K.axpy(1f, wp, g * wSize, wp, 0, wSize);
            K.axpy(1f, bp[g], 0, bp[0], 0, outC);
        }
        float[] dw = weight.grad().data(), db = bias.grad().data();
        K.axpy(1f, wp, 0, dw, 0, wSize);
        K.axpy(1f, bp[0], 0, db, 0, outC);
        return inputGradientNeeded ? gradInput : null;
    }

    /**
     * {@code sums[r] (+)= sum_q src[off + r*cols + q]}, each row added in q order from 0 (or from
     * its old value): the additions {@link FloatKernels#columnSums} made over the transpose, so the
     * same bits. Four rows side by side, four independent chains. Measured (one thread, medians of 11 rounds,
     * 32 x 1024 / 6 x 784 / 64 x 256): 8.2 / 2.2 / 4.2 us; a row at a time (one latency-bound
     * chain) 29 / 4.1 / 12; all rows a column at a time 102 / 4.1 / 24 (rows 4 KB apart share an
     * L1 set).
     */
    private static void rowSums(float[] src, int off, int rows, int cols, float[] sums, boolean accumulate) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            if (accumulate) {
                s0 = sums[r];
                s1 = sums[r + 1];
                s2 = sums[r + 2];
                s3 = sums[r + 3];
            }
            for (int q = 0, at = off + r * cols; q < cols; q++, at++) {
                s0 += src[at];
                s1 += src[at + cols];
                s2 += src[at + 2 * cols];
                s3 += src[at + 3 * cols];
            }
            sums[r] = s0;
            sums[r + 1] = s1;
            sums[r + 2] = s2;
            sums[r + 3] = s3;
        }
        for (; r < rows; r++) {
            float s = accumulate ? sums[r] : 0f;
            for (int q = 0, at = off + r * cols; q < cols; q++) s += src[at + q];
            sums[r] = s;
        }
    }

    /** Sample groups for the weight gradient: a function of the batch size and shapes only. */
    private int groups(int batch) {
        int byMemory = Math.max(1, PARTIAL_FLOATS / (outC * patch));
        return Math.max(1, Math.min(batch, Math.min(MAX_GROUPS, byMemory)));
    }

    private void ensureScratch(int parts) {
        if (scratch.length >= parts) return;
        Scratch[] grown = Arrays.copyOf(scratch, parts);
        for (int p = scratch.length; p < parts; p++) {
            grown[p] = new Scratch(new float[patch * plane], new float[patch * plane]);
        }
        scratch = grown;
    }

    @Override
    public void setInputGradientNeeded(boolean needed) {
        inputGradientNeeded = needed;
    }

    @Override
    public int[] inputShape() {
        return new int[] {inC, height, width};
    }

    @Override
    public int[] outputShape() {
        return new int[] {outC, outH, outW};
    }

    @Override
    public String spec() {
        return "conv(" + outC + "," + kernel + (stride != 1 ? ",stride=" + stride : "") + (pad != 0 ? ",pad=" + pad : "") + ")";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public long flops() {
        return 2L * outC * patch * plane;
    }
}
