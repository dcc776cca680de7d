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
 * included), so both paths give the same bits. The register tile is two output rows by two
 * vectors of an output row: four independent FMA chains, each load of the input feeding one FMA
 * and each weight broadcast four.
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
        for (int o = 0; o < outChannels; o++) {
            for (int oy = 0; oy < oh; oy += 2) {
                for (int ox = 0; ox < ow; ox += 2 * L) {
                    tile(xp, (oy * pw) + ox, ph * pw, pw, channels, kernel, w, o * taps, bias[o], y,
                            yOff + (o * oh + oy) * ow + ox, ow, ox, oy + 1 < oh);
                }
            }
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
}
