package dev.whittle.engine.quant;

import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Parts;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Im2col;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.SparseFilters;
import dev.whittle.kernels.SparseKernels;
import java.util.Arrays;

/**
 * A 2-D convolution on integer kernels, the quantized form of {@link dev.whittle.engine.nn.Conv2d}
 * (square kernel, zero padding, bias). Each sample is lowered "im2row": one row of
 * {@code in*k*k} input values per output pixel, so the product is the same
 * {@code rows . W^T} as a Linear's, with the pixels as the rows:
 *
 * <pre>
 *   X [pixels x in*k*k]  .  W^T [in*k*k x out]  =  Y [pixels x out]   -> transposed to [out, oh, ow]
 * </pre>
 *
 * With int8 activations the padding is the input's zero point (which stands for the real 0).
 * Samples go through in chunks, so the lowered rows stay at a few megabytes whatever the batch.
 *
 * <p><b>Small convolutions (int8 activations, {@code in*k*k <= 512}).</b> The integer sums run on
 * FP32 kernels over exact integers, the way {@link dev.whittle.kernels.Int8Kernels} runs its
 * many-row products: the input, centred on its zero point ({@code q - z} in [-255, 255]), goes
 * through the convolution over the nonzero taps (stride 1, up to
 * {@link SparseKernels#BREAK_EVEN_DENSITY_CONV}: measured, it wins even unpruned), the direct convolution (up to
 * {@link Conv2d#DIRECT_MAX_OUT} filters, stride 1,
 * as FP32 Conv2d chooses) or im2col and
 * the GEMM, padded with 0 (the real 0), the weights are widened per call, and every partial sum of at most
 * 512 products of magnitude at most 255 * 127 stays below 2^24, so no FMA rounds. The output is
 * then rescaled per channel and requantized in float (as XNNPACK's FP32 requantization does):
 *
 * <pre>
 *   y = fma(s_x s_w[o], acc, b[o])          (the real value; ReLU: max(y, 0))
 *   q = saturate(rint(y / s_out) + z_out)   (int8 out)     or y itself (FP32 out)
 * </pre>
 *
 * That keeps the lowered data at the size of the FP32 convolution's and the output already in
 * {@code [out, oh, ow]} order; measured on LeNet-5's convolutions at batch 1 it ran several times
 * faster than lowering to rows for the int8 GEMM, whose many-row path converts and transposes more.
 *
 * <p><b>INT4 weights with FP32 activations.</b> The filters are unpacked to floats
 * ({@code scale * q}) at every call, a few thousand values, and the convolution runs as FP32
 * {@link dev.whittle.engine.nn.Conv2d} does (direct for few filters at stride 1, else im2col and
 * the GEMM): lowered to rows for the INT4 product, with its zero-padded groups of 16 along K and
 * the output transposed back, LeNet-5 at batch 1 ran 2-3x slower than in FP32.
 */
public final class QuantizedConv2d implements QuantizedLayer {

    /** Lowered values per chunk of samples: 4 M (4 MB as bytes, 16 MB as floats). */
    private static final int CHUNK_VALUES = 1 << 22;
    /** The longest dot product whose sums of (q - z) * w stay exact in a float: 512 * 255 * 127 < 2^24. */
    static final int EXACT_FLOAT_K = 512;
    /** Up to this many filters a small convolution runs direct (the rule of FP32 Conv2d, measured there). */
    private static final int DIRECT_MAX_OUT = Conv2d.DIRECT_MAX_OUT;
    /**
     * From this density of nonzero weights on, the tap kernel takes every tap, zeros too
     * ({@link SparseFilters#dense}), so that it runs two filters at a time: each input load then
     * feeds two FMAs, where one filter at a time is bound by loads. Measured (one thread, medians of
     * 9 per-round ratios, random int8 filters), speed of all taps in pairs over the nonzero taps one
     * filter at a time, on LeNet-5's convolutions and the compressed one's: density 0.5
     * 0.63-0.82x, 0.7 0.88-1.13x, 0.8 1.13-1.20x, 0.9 1.20-1.43x, 0.97 1.12-1.47x.
     */
    static final double DENSE_TAPS_DENSITY = 0.8;
    /** The longest patch FP32 Conv2d runs direct (its rule). */
    private static final int DIRECT_MAX_PATCH = Conv2d.DIRECT_MAX_PATCH;
    private static final FloatKernels FP32 = Kernels.fp32();
    private static final QuantKernels QUANT = Kernels.quant();
    private static final SparseKernels SPARSE = Kernels.sparse();

    private final int inC, height, width;
    private final int outC, kernel, stride, pad;
    private final int outH, outW, plane, patch;
    /** Whether a 2x2, stride-2 max pooling is fused in (see {@link #poolsFused()}); then its output size. */
    private final boolean pool;
    private final int poolH, poolW;
    private final IntegerProduct product;
    /** INT4 weights with FP32 activations: the FP32 convolution on filters unpacked per call (see the class comment). */
    private final boolean int4Float;
    /** The weights INT4 filters are unpacked into, per call. */
    private float[] unpacked = new float[0];
    /** The per-sample output shape, shared with the output activations (never changed). */
    private final int[] shape;
    private final Activations y = new Activations();
    private byte[] rows8 = new byte[0];
    private float[] rowsF = new float[0];
    private byte[] out8 = new byte[0];
    private float[] outF = new float[0];
    // the small-convolution path: its int8 weights, per-channel rescale, and scratch
    private final boolean floatExact;
    private final byte[] weightValues;
    private final float[] rescale;
    private final float[] biasValues;
    /** One set of scratch buffers per part of a batch shared out among threads (small and INT4 FP32 paths). */
    private Scratch[] scratch = new Scratch[0];
    /** The int8 weights as floats, {@code [outC, patch]}. */
    private final float[] widened;
    /** The nonzero taps (stride 1, at or below the measured break-even density); else null. */
    private final SparseFilters sparse;
    private final float[] zeros;
    /** Where channel o's output row oy starts in {@code sums}: {@code o * channelStride + oy * rowStride}. */
    private final int channelStride, rowStride;

    /**
     * @param inputShape [channels, height, width]
     * @param input      the input's quantization for INT8 activations, else null
     * @param output     the output's quantization when the next quantized layer takes int8, else null
     * @param relu       whether a ReLU follows (fused)
     */
    public QuantizedConv2d(int[] inputShape, int kernel, int stride, int pad, QuantizedWeights weights, float[] bias,
                           ActivationMode activations, QuantParams input, QuantParams output, boolean relu) {
        this(inputShape, kernel, stride, pad, weights, bias, activations, input, output, relu, false);
    }

    /**
     * As above; with {@code maxPool2x2} a 2x2, stride-2 max pooling that follows the layer (after
     * its ReLU) is done here when the layer can (the small path with int8 output, see {@link
     * #poolsFused()}): on the exact integer sums, before the int8 rounding, so only a quarter of
     * the values are rounded and no int8 pooling pass follows. The rounding (multiply by a positive
     * scale, add the bias, ReLU, quantize) never decreases, so the maximum of the rounded values is
     * the rounded maximum: the same bits as pooling after.
     */
    public QuantizedConv2d(int[] inputShape, int kernel, int stride, int pad, QuantizedWeights weights, float[] bias,
                           ActivationMode activations, QuantParams input, QuantParams output, boolean relu, boolean maxPool2x2) {
        if (inputShape.length != 3) throw new IllegalArgumentException("conv needs [channels, height, width], got " + Arrays.toString(inputShape));
        this.inC = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
        this.outC = weights.rows();
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
        this.outH = Im2col.outputSize(height, kernel, stride, pad);
        this.outW = Im2col.outputSize(width, kernel, stride, pad);
        this.plane = outH * outW;
        this.patch = inC * kernel * kernel;
        if (weights.cols() != patch) {
            throw new IllegalArgumentException("conv weights have " + weights.cols() + " inputs per channel, expected " + patch);
        }
        this.product = new IntegerProduct(weights, bias, activations, input, output, relu);
        this.int4Float = weights.bits() == 4 && activations == ActivationMode.FLOAT;
        this.floatExact = activations == ActivationMode.INT8 && patch <= EXACT_FLOAT_K;
        this.pool = maxPool2x2 && floatExact && output != null && outH >= 2 && outW >= 2;
        this.poolH = pool ? outH / 2 : outH;
        this.poolW = pool ? outW / 2 : outW;
        this.shape = new int[] {outC, poolH, poolW};
        this.weightValues = floatExact ? weights.int8Values() : null;
        this.biasValues = bias.clone();
        this.rescale = new float[outC];
        this.zeros = new float[outC];
        if (floatExact) for (int o = 0; o < outC; o++) rescale[o] = product.inputScale * weights.rowScale(o);
        this.widened = floatExact ? new float[outC * patch] : null;
        if (floatExact) QUANT.dequantize(weightValues, 0, outC * patch, 1f, 0, QuantRange.INT8, widened, 0);
        // the taps' sums are exact integers either way, so the tap and dense paths give the same bits
        long nonzeros = weights.nonzeros();
        boolean taps = floatExact && stride == 1 && nonzeros <= SparseKernels.BREAK_EVEN_DENSITY_CONV * outC * patch;
        // few zeros and int8 output (the kernel that leaves its sums in planes): every tap kept, so
        // the filters share their taps and run two at a time; the zeros add exact zeros
        boolean allTaps = taps && output != null && nonzeros >= DENSE_TAPS_DENSITY * outC * patch;
        this.sparse = !taps ? null : allTaps ? SparseFilters.dense(widened, outC, inC, height, width, kernel, pad)
                : SparseFilters.of(widened, outC, inC, height, width, kernel, pad);
        // with int8 output the tap kernel's sums are read where it leaves them, rows paddedWidth apart
        boolean inPlace = sparse != null && output != null;
        this.channelStride = inPlace ? sparse.planeLength() : plane;
        this.rowStride = inPlace ? sparse.paddedWidth() : outW;
    }

    /** Whether the max pooling asked for is done here (else the caller keeps its pooling layer). */
    public boolean poolsFused() {
        return pool;
    }

    @Override
    public Activations forward(Activations x) {
        product.checkInput(x, inC * height * width);
        int batch = x.batch(), inSize = inC * height * width, outSize = outC * plane;
        int[] shape = this.shape;
        boolean int8In = product.activations == ActivationMode.INT8, int8Out = product.int8Output();
        if (int8Out) y.asInt8(batch, shape, product.outputScale, product.outputZeroPoint);
        else y.asFloats(batch, shape);
        if (floatExact) {
            forwardSmall(x, batch);
            return y;
        }
        if (int4Float) {
            forwardInt4Float(x, batch);
            return y;
        }
        int chunk = Math.max(1, Math.min(batch, CHUNK_VALUES / (plane * patch)));
        ensureBuffers(chunk, int8In, int8Out);
        for (int s0 = 0; s0 < batch; s0 += chunk) {
            int count = Math.min(chunk, batch - s0);
            for (int s = 0; s < count; s++) {
                int xOff = (s0 + s) * inSize, rOff = s * plane * patch;
                if (int8In) {
                    im2row(x.bytes(), xOff, (byte) product.inputZeroPoint, rows8, rOff);
                } else {
                    im2row(x.floats(), xOff, rowsF, rOff);
                }
            }
            product.multiply(count * plane, rows8, rowsF, 0, out8, outF, 0);
            for (int s = 0; s < count; s++) {
                int from = s * plane * outC, to = (s0 + s) * outSize;
                if (int8Out) transpose(out8, from, y.bytes(), to);
                else transpose(outF, from, y.floats(), to);
            }
        }
        return y;
    }

    /**
     * INT4 weights, FP32 activations: the FP32 convolution on the filters unpacked (see the class
     * comment), the batch shared out among the threads as on the small path.
     */
    private void forwardInt4Float(Activations x, int batch) {
        int inSize = inC * height * width, outSize = outC * plane;
        if (unpacked.length < outC * patch) unpacked = new float[outC * patch];
        Kernels.int4().dequantize(product.weights.int4(), 0, outC, unpacked, 0);
        boolean direct = stride == 1 && patch <= DIRECT_MAX_PATCH && outC <= DIRECT_MAX_OUT;
        int parts = Parts.count(batch, flops() / 2);  // as Conv2d shares its batch
        Scratch[] own = scratch(parts);
        if (!direct) for (int p = 0; p < parts; p++) if (own[p].columns.length < patch * plane) own[p].columns = new float[patch * plane];
        float[] in = x.floats(), out = y.floats();
        Parts.run(batch, parts, (p, from, to) -> {
            for (int s = from; s < to; s++) {
                int y0 = s * outSize;
                if (direct) {
                    FP32.conv2dDirect(in, s * inSize, inC, height, width, unpacked, biasValues, outC, kernel, pad, out, y0);
                } else {
                    for (int o = 0; o < outC; o++) Arrays.fill(out, y0 + o * plane, y0 + (o + 1) * plane, biasValues[o]);
                    Im2col.im2col(in, s * inSize, inC, height, width, kernel, stride, pad, own[p].columns, 0);
                    FP32.gemmNN(outC, plane, patch, unpacked, 0, own[p].columns, 0, out, y0, true);
                }
                if (product.relu) {
                    for (int i = y0; i < y0 + outSize; i++) out[i] = Math.max(out[i], 0f);
                }
            }
        });
    }

    /** At least {@code parts} sets of scratch buffers. */
    private Scratch[] scratch(int parts) {
        if (scratch.length < parts) {
            Scratch[] grown = Arrays.copyOf(scratch, parts);
            for (int p = scratch.length; p < parts; p++) grown[p] = new Scratch();
            scratch = grown;
        }
        return scratch;
    }

    /**
     * The small-convolution path (see the class comment), one sample at a time; a batch is shared
     * out among the threads in contiguous runs of samples, each run with its own scratch buffers.
     * A sample is computed the same way in any run. One thread ran LeNet-5's INT8 convolutions at
     * batch 64 whatever {@code --threads} said: two threads gave 0.99-1.19x its FP32 form's
     * throughput against 1.61x on one.
     */
    private void forwardSmall(Activations x, int batch) {
        int inSize = inC * height * width, outSize = outC * plane;
        int parts = Parts.count(batch, flops() / 2);  // as Conv2d shares its batch
        Scratch[] own = scratch(parts);
        boolean lowered = sparse == null && !(stride == 1 && outC <= DIRECT_MAX_OUT);
        for (int p = 0; p < parts; p++) {
            Scratch w = own[p];
            if (w.centred.length < inSize) w.centred = new float[inSize];
            if (lowered && w.columns.length < patch * plane) w.columns = new float[patch * plane];
            if (w.sums.length < outC * channelStride) w.sums = new float[outC * channelStride];
            if (sparse != null && w.padded.length < sparse.paddedLength()) w.padded = new float[sparse.paddedLength()];
            if (sparse != null && rowStride == outW && w.tapPlane.length < sparse.planeLength()) w.tapPlane = new float[sparse.planeLength()];
            if (pool && w.pooled.length < poolH * poolW) w.pooled = new float[poolH * poolW];
        }
        byte[] in = x.bytes();
        Parts.run(batch, parts, (p, from, to) -> {
            for (int s = from; s < to; s++) {
                integerSums(in, s * inSize, inSize, own[p]);
                epilogue(s, outSize, own[p]);
            }
        });
    }

    /** Scratch of one part of a batch. */
    private static final class Scratch {
        float[] centred = new float[0];
        float[] columns = new float[0];
        float[] sums = new float[0];
        float[] padded = new float[0];
        float[] tapPlane = new float[0];
        float[] pooled = new float[0];
    }

    /** One sample's integer sums, {@code [outC, plane]}, into {@code w.sums}. */
    private void integerSums(byte[] in, int from, int inSize, Scratch w) {
        // q - z as floats; zero padding (in the plane's border or added by the lowering) is then the real 0
        QUANT.dequantize(in, from, inSize, 1f, product.inputZeroPoint, QuantRange.INT8, w.centred, 0);
        if (sparse != null) {
            sparse.fillPadded(w.centred, 0, w.padded);
            if (rowStride == outW) SPARSE.conv2dSparse(sparse, w.padded, w.tapPlane, w.sums, 0);
            else SPARSE.conv2dSparsePlanes(sparse, w.padded, w.sums, 0);
        } else if (stride == 1 && outC <= DIRECT_MAX_OUT) {
            // few filters: the direct convolution (as FP32 Conv2d chooses), sums from 0
            FP32.conv2dDirect(w.centred, 0, inC, height, width, widened, zeros, outC, kernel, pad, w.sums, 0);
        } else {
            Im2col.im2col(w.centred, 0, inC, height, width, kernel, stride, pad, w.columns, 0);
            FP32.gemmNN(outC, plane, patch, widened, 0, w.columns, 0, w.sums, 0, false);
        }
    }

    /**
     * The real values of sample {@code s} (rescale, bias), then ReLU and the int8 rounding: one
     * pass per channel for int8 output, else a multiply-add and a ReLU pass.
     */
    private void epilogue(int s, int outSize, Scratch w) {
        boolean int8Out = product.int8Output();
        if (pool) {
            int out = poolH * poolW;
            for (int o = 0; o < outC; o++) {
                maxPool2x2(w.sums, o * channelStride, w.pooled);
                QUANT.requantize(w.pooled, 0, out, rescale[o], biasValues[o], product.relu, product.outputScale, product.outputZeroPoint,
                        QuantRange.INT8, y.bytes(), (s * outC + o) * out);
            }
            return;
        }
        if (int8Out) {
            // contiguous rows are one run per channel; rows left in the tap kernel's planes go one by one
            int rows = rowStride == outW ? 1 : outH, run = rows == 1 ? plane : outW;
            for (int o = 0; o < outC; o++) {
                for (int r = 0; r < rows; r++) {
                    QUANT.requantize(w.sums, o * channelStride + r * rowStride, run, rescale[o], biasValues[o], product.relu, product.outputScale,
                            product.outputZeroPoint, QuantRange.INT8, y.bytes(), s * outSize + o * plane + r * outW);
                }
            }
            return;
        }
        float[] dst = y.floats();
        int base = s * outSize;
        for (int o = 0; o < outC; o++) {
            Arrays.fill(dst, base + o * plane, base + (o + 1) * plane, biasValues[o]);
            FP32.axpy(rescale[o], w.sums, o * plane, dst, base + o * plane, plane);
        }
        if (product.relu) for (int i = base; i < base + outSize; i++) dst[i] = Math.max(dst[i], 0f);
    }

    /** The 2x2, stride-2 maxima of one channel's sums (rows {@link #rowStride} apart from {@code from}) into {@code dst}. */
    private void maxPool2x2(float[] src, int from, float[] dst) {
        for (int py = 0, d = 0; py < poolH; py++) {
            int r0 = from + 2 * py * rowStride, r1 = r0 + rowStride;
            for (int px = 0; px < poolW; px++, d++) {
                int c = 2 * px;
                dst[d] = Math.max(Math.max(src[r0 + c], src[r0 + c + 1]), Math.max(src[r1 + c], src[r1 + c + 1]));
            }
        }
    }

    private void ensureBuffers(int chunk, boolean int8In, boolean int8Out) {
        int lowered = chunk * plane * patch, outs = chunk * plane * outC;
        if (int8In && rows8.length < lowered) rows8 = new byte[lowered];
        if (!int8In && rowsF.length < lowered) rowsF = new float[lowered];
        if (int8Out && out8.length < outs) out8 = new byte[outs];
        if (!int8Out && outF.length < outs) outF = new float[outs];
    }

    /** One sample's int8 input {@code [inC, H, W]} at {@code x[xOff]} lowered to {@code [plane x patch]} rows. */
    private void im2row(byte[] x, int xOff, byte padValue, byte[] rows, int rOff) {
        int r = rOff;
        for (int oy = 0; oy < outH; oy++) {
            int iy0 = oy * stride - pad;
            for (int ox = 0; ox < outW; ox++) {
                int ix0 = ox * stride - pad;
                boolean inside = iy0 >= 0 && ix0 >= 0 && iy0 + kernel <= height && ix0 + kernel <= width;
                for (int c = 0; c < inC; c++) {
                    for (int ky = 0; ky < kernel; ky++) {
                        int iy = iy0 + ky, base = xOff + (c * height + iy) * width;
                        if (inside) {
                            for (int kx = 0; kx < kernel; kx++) rows[r++] = x[base + ix0 + kx];
                        } else {
                            boolean rowIn = iy >= 0 && iy < height;
                            for (int kx = 0; kx < kernel; kx++) {
                                int ix = ix0 + kx;
                                rows[r++] = rowIn && ix >= 0 && ix < width ? x[base + ix] : padValue;
                            }
                        }
                    }
                }
            }
        }
    }

    /** The float form of {@link #im2row(byte[], int, byte, byte[], int)}, padding with 0. */
    private void im2row(float[] x, int xOff, float[] rows, int rOff) {
        int r = rOff;
        for (int oy = 0; oy < outH; oy++) {
            int iy0 = oy * stride - pad;
            for (int ox = 0; ox < outW; ox++) {
                int ix0 = ox * stride - pad;
                boolean inside = iy0 >= 0 && ix0 >= 0 && iy0 + kernel <= height && ix0 + kernel <= width;
                for (int c = 0; c < inC; c++) {
                    for (int ky = 0; ky < kernel; ky++) {
                        int iy = iy0 + ky, base = xOff + (c * height + iy) * width;
                        if (inside) {
                            for (int kx = 0; kx < kernel; kx++) rows[r++] = x[base + ix0 + kx];
                        } else {
                            boolean rowIn = iy >= 0 && iy < height;
                            for (int kx = 0; kx < kernel; kx++) {
                                int ix = ix0 + kx;
                                rows[r++] = rowIn && ix >= 0 && ix < width ? x[base + ix] : 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code [plane x outC]} at {@code src[from]} to {@code [outC x plane]} at {@code dst[to]}. */
    private void transpose(byte[] src, int from, byte[] dst, int to) {
        for (int p = 0; p < plane; p++) {
            for (int o = 0, s = from + p * outC; o < outC; o++) dst[to + o * plane + p] = src[s + o];
        }
    }

    private void transpose(float[] src, int from, float[] dst, int to) {
        for (int p = 0; p < plane; p++) {
            for (int o = 0, s = from + p * outC; o < outC; o++) dst[to + o * plane + p] = src[s + o];
        }
    }

    public int inputChannels() {
        return inC;
    }

    public int kernelSize() {
        return kernel;
    }

    public QuantizedWeights weights() {
        return product.weights;
    }

    public float[] bias() {
        return product.bias.clone();
    }

    public ActivationMode activations() {
        return product.activations;
    }

    public QuantParams inputQuantization() {
        return product.input;
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    /** The convolution's own output shape, {@code [out, oh, ow]}, before a fused pooling ({@link #outputShape()} is after it). */
    public int[] convolutionShape() {
        return new int[] {outC, outH, outW};
    }

    @Override
    public String spec() {
        return "conv(" + outC + "," + kernel + (stride != 1 ? ",stride=" + stride : "") + (pad != 0 ? ",pad=" + pad : "") + ")";
    }

    @Override
    public String precision() {
        return product.precision();
    }

    @Override
    public long flops() {
        return 2L * outC * patch * plane;
    }
}
