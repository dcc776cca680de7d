package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whittle.engine.Rng;
import org.junit.jupiter.api.Test;

/** The streamed {@code H = (2/n) Σ x xᵀ} against sums written out directly. */
class HessianAccumulatorTest {

    @Test
    void addRowsIsTwiceXtXOverN() {
        int n = 13, cols = 7;
        float[] x = random(n * cols, 1);
        x[3 * cols + 2] = 0f; // a zero entry takes the skip path
        HessianAccumulator acc = new HessianAccumulator(cols);
        // streamed in two uneven batches, the second from an offset
        acc.addRows(x, 0, 5);
        acc.addRows(x, 5 * cols, n - 5);
        double[] h = acc.hessian();
        assertEquals(n, acc.samples());
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int r = 0; r < n; r++) s += (double) x[r * cols + i] * x[r * cols + j];
                assertEquals(2 * s / n, h[i * cols + j], 1e-12, "H[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void addConvEqualsTheHandBuiltPatches() {
        checkConv(2, 5, 5, 3, 1, 1);
        checkConv(3, 6, 5, 3, 2, 0); // stride 2, no padding, a non-square image
    }

    /** Lowers each image by hand, one patch vector per output pixel in (c, ky, kx) order, and feeds them as rows. */
    private static void checkConv(int c, int height, int width, int k, int stride, int pad) {
        int batch = 2, cols = c * k * k;
        float[] x = random(batch * c * height * width, 2);
        int oh = (height + 2 * pad - k) / stride + 1, ow = (width + 2 * pad - k) / stride + 1;
        float[] patches = patches(x, batch, c, height, width, k, stride, pad);
        HessianAccumulator byHand = new HessianAccumulator(cols);
        byHand.addRows(patches, 0, batch * oh * ow);
        HessianAccumulator conv = new HessianAccumulator(cols);
        conv.addConv(x, batch, new int[] {c, height, width}, k, stride, pad);
        assertEquals(byHand.samples(), conv.samples());
        double[] want = byHand.hessian(), got = conv.hessian();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-12 * (1 + Math.abs(want[i])), "H entry " + i);
    }

    @Test
    void rejectsMismatchedInputs() {
        HessianAccumulator acc = new HessianAccumulator(18);
        assertThrows(IllegalArgumentException.class, () -> acc.addRows(new float[17], 0, 1));
        assertThrows(IllegalArgumentException.class, () -> acc.addConv(new float[3 * 25], 1, new int[] {3, 5, 5}, 3, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> acc.addConv(new float[2 * 25], 2, new int[] {2, 5, 5}, 3, 1, 1));
        assertEquals(0, acc.samples());
    }

    /** The receptive fields of every output pixel of every image, one row of {@code c*k*k} in (c, ky, kx) order each. */
    static float[] patches(float[] x, int batch, int c, int height, int width, int k, int stride, int pad) {
        int cols = c * k * k;
        int oh = (height + 2 * pad - k) / stride + 1, ow = (width + 2 * pad - k) / stride + 1;
        float[] patches = new float[batch * oh * ow * cols];
        int p = 0;
        for (int b = 0; b < batch; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++, p++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                boolean inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                                patches[p * cols + (ch * k + ky) * k + kx] =
                                        inside ? x[((b * c + ch) * height + iy) * width + ix] : 0f;
                            }
                        }
                    }
                }
            }
        }
        return patches;
    }

    static float[] random(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.normal();
        return a;
    }
}
