package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution of one image, stride 1, for the small channel counts where lowering to a
 * matrix product costs more than the product (LeNet-5's 1- and 6-channel inputs: im2col writes 25
 * floats per output pixel, and a 3- or 6-row GEMM wastes most of a 6 x 16 register tile).
 *
 * <pre>
 *   y[o][oy][ox] = bias[o] + sum over (c, ky, kx), in that order, of w[o][c][ky][kx] * xp[c][oy + ky][ox + kx]
 * </pre>
 *
 * where {@code xp} is the input inside a border of {@code pad} zeros. Each output is one FMA chain
 * in exactly the order of im2col + {@link Gemm} accumulating onto the bias (the zero padding
 * included), so both paths give the same bits. The register tile is two output channels by two
 * output rows by two vectors of an output row: eight independent FMA chains, each load of the
 * input feeding two FMAs and each weight broadcast four (an odd last channel runs alone, with four
 * chains). With one channel at a time, four chains, the FMAs waited on each other's latency:
 * against im2col + GEMM ({@code ConvKernelBenchmark}, batches of 32, one thread, medians of 21
 * per-round ratios; before, four runs of 15) LeNet-5's 1->6 5x5 pad 2 on 28 x 28 went from
 * 1.04-1.10x to 1.62-1.65x, 1->8 from 1.07-1.11x to 1.64-1.65x, 6->8 on 14 x 14 from 1.04-1.13x
 * to 1.59-1.60x.
 */
final class DirectConv {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private DirectConv() {}

    static void conv2d(float[] x, int xOff, int channels, int height, int width, float[] w, float[] bias,
                       int outChannels, int kernel, int pad, float[] y, int yOff) {
        int oh = height + 2 * pad - kernel + 1, ow = width + 2 * pad - kernel + 1;
        // padded rows: the border, plus room for the second vector of the last columns, plus one
        // spare row for the second output row of an odd last pair
        int pw = Gemm.roundUp(ow, 2 * L) + kernel - 1, ph = height + 2 * pad + 1;
        float[] xp = Im2col.padded(x, xOff, channels, height, width, pad, ph, pw, 0);
        int taps = channels * kernel * kernel;
        int o = 0;
        for (; o + 1 < outChannels; o += 2) {
            for (int oy = 0; oy < oh; oy += 2) {
                for (int ox = 0; ox < ow; ox += 2 * L) {
                    pairTile(xp, (oy * pw) + ox, ph * pw, pw, channels, kernel, w, o * taps, taps, bias[o], bias[o + 1], y,
                            yOff + (o * oh + oy) * ow + ox, oh * ow, ow, ox, oy + 1 < oh);
                }
            }
        }
        for (; o < outChannels; o++) {  // the last of an odd number of filters
            for (int oy = 0; oy < oh; oy += 2) {
                for (int ox = 0; ox < ow; ox += 2 * L) {
                    tile(xp, (oy * pw) + ox, ph * pw, pw, channels, kernel, w, o * taps, bias[o], y,
                            yOff + (o * oh + oy) * ow + ox, ow, ox, oy + 1 < oh);
                }
            }
        }
    }

    /**
     * {@link #tile} for output channels o and o + 1 at once (their filters {@code taps} apart, their
     * output planes {@code outPlane} apart): eight FMA chains, each input load feeding two FMAs.
     */
    private static void pairTile(float[] xp, int at, int plane, int pw, int channels, int kernel, float[] w, int wi, int taps,
                                 float bias0, float bias1, float[] y, int yAt, int outPlane, int ow, int ox, boolean second) {
        FloatVector a00 = FloatVector.broadcast(S, bias0), a01 = a00, a10 = a00, a11 = a00;
        FloatVector b00 = FloatVector.broadcast(S, bias1), b01 = b00, b10 = b00, b11 = b00;
        for (int c = 0; c < channels; c++) {
            for (int ky = 0; ky < kernel; ky++) {
                int r0 = at + c * plane + ky * pw, r1 = r0 + pw;
                for (int kx = 0; kx < kernel; kx++, wi++) {
                    FloatVector x00 = FloatVector.fromArray(S, xp, r0 + kx), x01 = FloatVector.fromArray(S, xp, r0 + kx + L);
                    FloatVector x10 = FloatVector.fromArray(S, xp, r1 + kx), x11 = FloatVector.fromArray(S, xp, r1 + kx + L);
                    FloatVector v = FloatVector.broadcast(S, w[wi]);
                    a00 = v.fma(x00, a00);
                    a01 = v.fma(x01, a01);
                    a10 = v.fma(x10, a10);
                    a11 = v.fma(x11, a11);
                    v = FloatVector.broadcast(S, w[wi + taps]);
                    b00 = v.fma(x00, b00);
                    b01 = v.fma(x01, b01);
                    b10 = v.fma(x10, b10);
                    b11 = v.fma(x11, b11);
                }
            }
        }
        VectorMask<Float> m0 = S.indexInRange(ox, ow), m1 = S.indexInRange(ox + L, ow);
        a00.intoArray(y, yAt, m0);
        a01.intoArray(y, yAt + L, m1);
        b00.intoArray(y, yAt + outPlane, m0);
        b01.intoArray(y, yAt + outPlane + L, m1);
        if (second) {
            a10.intoArray(y, yAt + ow, m0);
            a11.intoArray(y, yAt + ow + L, m1);
            b10.intoArray(y, yAt + outPlane + ow, m0);
            b11.intoArray(y, yAt + outPlane + ow + L, m1);
        }
    }

    /**
     * One register tile: output rows oy and oy + 1 (when {@code second}), columns {@code [ox, ox + 2L)}
     * (masked to the row), from the padded input at {@code at} (channel c's rows start c*plane
     * later). Small, so C2 compiles it on its own with the four accumulators in registers.
     */
    private static void tile(float[] xp, int at, int plane, int pw, int channels, int kernel, float[] w, int wi, float bias,
                             float[] y, int yAt, int ow, int ox, boolean second) {
        FloatVector a00 = FloatVector.broadcast(S, bias), a01 = a00, a10 = a00, a11 = a00;
        for (int c = 0; c < channels; c++) {
            for (int ky = 0; ky < kernel; ky++) {
                int r0 = at + c * plane + ky * pw, r1 = r0 + pw;
                for (int kx = 0; kx < kernel; kx++, wi++) {
                    FloatVector v = FloatVector.broadcast(S, w[wi]);
                    a00 = v.fma(FloatVector.fromArray(S, xp, r0 + kx), a00);
                    a01 = v.fma(FloatVector.fromArray(S, xp, r0 + kx + L), a01);
                    a10 = v.fma(FloatVector.fromArray(S, xp, r1 + kx), a10);
                    a11 = v.fma(FloatVector.fromArray(S, xp, r1 + kx + L), a11);
                }
            }
        }
        VectorMask<Float> m0 = S.indexInRange(ox, ow), m1 = S.indexInRange(ox + L, ow);
        a00.intoArray(y, yAt, m0);
        a01.intoArray(y, yAt + L, m1);
        if (second) {
            a10.intoArray(y, yAt + ow, m0);
            a11.intoArray(y, yAt + ow + L, m1);
        }
    }

    /** Output channels of a {@link #gradientTile}: six accumulators, as the GEMM's six-row tile. */
    private static final int GRADIENT_ROWS = 6;

    /**
     * {@link FloatKernels#conv2dWeightGradient}: for a group of up to six output channels, one
     * kernel row ky of one input channel and up to L kernel columns at a time, each output pixel
     * adds {@code dy[o][p] * xp[c][oy + ky][ox + kx .. ox + kx + L)} to six vector accumulators, the
     * lanes being the kernel columns. So every weight is one FMA chain over the pixels in order,
     * as im2row + GEMM computes it, without writing the k*k floats per pixel of im2row nor packing
     * them for the GEMM (which pads LeNet-5's 6 x 25 weight gradient to two 6 x 16 tiles, each step
     * 784 pixels deep). Lanes past the kernel's columns read the neighbouring pixels and are never
     * stored.
     * Each accumulator takes one FMA a pixel, so six chains keep the FMA units half busy at best;
     * a tile of four channels by two kernel rows (eight chains) measured, against this one (speed-up
     * over im2row + GEMM, {@code ConvKernelBenchmark}, the two builds in turn): 1->6 5x5 pad 2 on
     * 28 x 28 1.82x against 2.36x (six filters fill one group of six, but a group of four and one of
     * two), 1->8 2.47x against 1.56x, 6->8 5x5 on 14 x 14 1.08x against 0.78x, 6->16 0.71x against
     * 0.63x (neither beats the GEMM there: on a 10 x 10 output every tile is 100 pixels in rows of
     * ten).
     */
    static void weightGradient(float[] x, int xOff, int channels, int height, int width, float[] dy, int dyOff,
                               int outChannels, int kernel, int pad, float[] dw, int dwOff, boolean accumulate) {
        int oh = height + 2 * pad - kernel + 1, ow = width + 2 * pad - kernel + 1;
        int ph = height + 2 * pad, pw = width + 2 * pad;
        // slack: a vector read at a window's last pixels runs up to L - 1 floats past the last row
        float[] xp = Im2col.padded(x, xOff, channels, height, width, pad, ph, pw, L);
        int taps = kernel * kernel, filter = channels * taps;
        for (int o0 = 0; o0 < outChannels; o0 += GRADIENT_ROWS) {
            int rows = Math.min(GRADIENT_ROWS, outChannels - o0);
            for (int c = 0; c < channels; c++) {
                for (int ky = 0; ky < kernel; ky++) {
                    for (int kx = 0; kx < kernel; kx += L) {
                        gradientTile(xp, (c * ph + ky) * pw + kx, pw, oh, ow, dy, dyOff + o0 * oh * ow, rows,
                                dw, dwOff + o0 * filter + c * taps + ky * kernel + kx, filter, Math.min(L, kernel - kx), accumulate);
                    }
                }
            }
        }
    }

    /**
     * Six accumulators over all output pixels: lane j of row r is the gradient of weight
     * {@code dw[w0 + r * filter + j]} ({@code j < lanes}), fed by {@code dy}'s channel
     * {@code d0 + r * plane}. Rows past {@code rows} repeat the last channel and are not stored.
     * Small, so C2 compiles it on its own with the accumulators in registers.
     */
    private static void gradientTile(float[] xp, int at, int pw, int oh, int ow, float[] dy, int d0, int rows,
                                     float[] dw, int w0, int filter, int lanes, boolean accumulate) {
        int plane = oh * ow;
        int d1 = d0 + Math.min(1, rows - 1) * plane, d2 = d0 + Math.min(2, rows - 1) * plane;
        int d3 = d0 + Math.min(3, rows - 1) * plane, d4 = d0 + Math.min(4, rows - 1) * plane;
        int d5 = d0 + Math.min(5, rows - 1) * plane;
        VectorMask<Float> m = S.indexInRange(0, lanes);
        FloatVector a0 = start(dw, w0, m, accumulate), a1 = start(dw, w0 + filter, rows > 1 ? m : null, accumulate);
        FloatVector a2 = start(dw, w0 + 2 * filter, rows > 2 ? m : null, accumulate);
        FloatVector a3 = start(dw, w0 + 3 * filter, rows > 3 ? m : null, accumulate);
        FloatVector a4 = start(dw, w0 + 4 * filter, rows > 4 ? m : null, accumulate);
        FloatVector a5 = start(dw, w0 + 5 * filter, rows > 5 ? m : null, accumulate);
        for (int oy = 0, p = 0; oy < oh; oy++, p += ow) {
            int row = at + oy * pw;
            for (int ox = 0; ox < ow; ox++) {
                FloatVector v = FloatVector.fromArray(S, xp, row + ox);
                a0 = FloatVector.broadcast(S, dy[d0 + p + ox]).fma(v, a0);
                a1 = FloatVector.broadcast(S, dy[d1 + p + ox]).fma(v, a1);
                a2 = FloatVector.broadcast(S, dy[d2 + p + ox]).fma(v, a2);
                a3 = FloatVector.broadcast(S, dy[d3 + p + ox]).fma(v, a3);
                a4 = FloatVector.broadcast(S, dy[d4 + p + ox]).fma(v, a4);
                a5 = FloatVector.broadcast(S, dy[d5 + p + ox]).fma(v, a5);
            }
        }
        a0.intoArray(dw, w0, m);
        if (rows > 1) a1.intoArray(dw, w0 + filter, m);
        if (rows > 2) a2.intoArray(dw, w0 + 2 * filter, m);
        if (rows > 3) a3.intoArray(dw, w0 + 3 * filter, m);
        if (rows > 4) a4.intoArray(dw, w0 + 4 * filter, m);
        if (rows > 5) a5.intoArray(dw, w0 + 5 * filter, m);
    }

    /** An accumulator's start: the stored gradients' lanes (mask {@code m}) when accumulating, else zero; zero for a row not stored ({@code m} null). */
    private static FloatVector start(float[] dw, int at, VectorMask<Float> m, boolean accumulate) {
        return accumulate && m != null ? FloatVector.fromArray(S, dw, at, m) : FloatVector.zero(S);
    }
}
