package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The direct convolution and its weight gradient against their twins and against the lowered paths (im2col or im2row + GEMM), bit for bit. */
class DirectConvTest {

    @Test
    void directConvolutionGivesTheBitsOfIm2colAndGemm() {
        Random rnd = new Random(5);
        VectorFloatKernels vec = new VectorFloatKernels();
        ScalarFloatKernels twin = new ScalarFloatKernels();
        int[][] shapes = {{1, 28, 28, 6, 5, 2}, {6, 14, 14, 16, 5, 0}, {3, 14, 14, 8, 5, 0}, {1, 5, 7, 3, 3, 1}, {2, 9, 17, 5, 3, 2},
                {4, 3, 3, 2, 3, 0}, {1, 1, 1, 1, 1, 0}, {2, 12, 31, 7, 1, 0}};
        for (int[] sh : shapes) {
            int c = sh[0], h = sh[1], w = sh[2], o = sh[3], k = sh[4], pad = sh[5];
            int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1, patch = c * k * k;
            float[] x = random(rnd, 3 + c * h * w), wt = random(rnd, o * patch), bias = random(rnd, o);
            float[] direct = new float[2 + o * oh * ow], scalar = new float[2 + o * oh * ow];
            vec.conv2dDirect(x, 3, c, h, w, wt, bias, o, k, pad, direct, 2);
            twin.conv2dDirect(x, 3, c, h, w, wt, bias, o, k, pad, scalar, 2);
            assertArrayEquals(scalar, direct, Arrays.toString(sh));
            // the lowered path: bias first, then the GEMM accumulating onto it
            float[] cols = new float[patch * oh * ow], lowered = new float[2 + o * oh * ow];
            Im2col.im2col(x, 3, c, h, w, k, 1, pad, cols, 0);
            for (int j = 0; j < o; j++) Arrays.fill(lowered, 2 + j * oh * ow, 2 + (j + 1) * oh * ow, bias[j]);
            vec.gemmNN(o, oh * ow, patch, wt, 0, cols, 0, lowered, 2, true);
            assertArrayEquals(lowered, direct, "against im2col + gemm " + Arrays.toString(sh));
        }
    }

    @Test
    void weightGradientGivesTheBitsOfIm2rowAndGemmAndWritesNothingElse() {
        Random rnd = new Random(11);
        VectorFloatKernels vec = new VectorFloatKernels();
        ScalarFloatKernels twin = new ScalarFloatKernels();
        for (int trial = 0; trial < 300; trial++) {
            // kernels up to 11 (more than one vector of columns), 1-13 filters (groups of six and a rest)
            int c = 1 + rnd.nextInt(4), k = 1 + rnd.nextInt(trial % 5 == 0 ? 11 : 6), pad = rnd.nextInt(4);
            int h = Math.max(1, k - 2 * pad + rnd.nextInt(12)), w = Math.max(1, k - 2 * pad + rnd.nextInt(30));
            int o = 1 + rnd.nextInt(13);
            int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1, patch = c * k * k, plane = oh * ow;
            boolean accumulate = rnd.nextBoolean();
            int xOff = rnd.nextInt(5), dyOff = rnd.nextInt(5), dwOff = rnd.nextInt(9);
            float[] x = random(rnd, xOff + c * h * w), dy = random(rnd, dyOff + o * plane);
            float[] start = random(rnd, dwOff + o * patch + 9);
            float[] got = start.clone(), want = start.clone();
            vec.conv2dWeightGradient(x, xOff, c, h, w, dy, dyOff, o, k, pad, got, dwOff, accumulate);
            twin.conv2dWeightGradient(x, xOff, c, h, w, dy, dyOff, o, k, pad, want, dwOff, accumulate);
            String where = "c=" + c + " h=" + h + " w=" + w + " o=" + o + " k=" + k + " pad=" + pad + " acc=" + accumulate;
            assertArrayEquals(want, got, "against the twin, " + where);
            // the lowered path: im2row's rows, then dW (+)= dY . rows
            float[] rows = new float[plane * patch], lowered = start.clone();
            Im2col.im2row(x, xOff, c, h, w, k, 1, pad, rows, 0);
            vec.gemmNN(o, patch, plane, dy, dyOff, rows, 0, lowered, dwOff, accumulate);
            assertArrayEquals(lowered, got, "against im2row + gemm, " + where);
            // nothing outside dw[dwOff, dwOff + o * patch) moved
            for (int i = 0; i < dwOff; i++) assertEquals(start[i], got[i], "before dw, " + where);
            for (int i = dwOff + o * patch; i < got.length; i++) assertEquals(start[i], got[i], "after dw, " + where);
        }
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
