package dev.whittle.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Holds im2col to its definition, im2row to its transpose and col2im to being its adjoint, over random shapes. */
class Im2colTest {

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** A random geometry {channels, height, width, kernel, stride, pad} in which at least one window fits. */
    private static int[] randomGeometry(SplittableRandom r) {
        while (true) {
            int c = 1 + r.nextInt(4), h = 1 + r.nextInt(9), w = 1 + r.nextInt(9);
            int k = 1 + r.nextInt(5), s = 1 + r.nextInt(3), p = r.nextInt(3);
            if (k <= h + 2 * p && k <= w + 2 * p) return new int[] {c, h, w, k, s, p};
        }
    }

    @Test
    void im2colMatchesItsDefinition() {
        // half the shapes wide enough for whole vectors per row (stride 1 copies runs as vectors)
        SplittableRandom r = new SplittableRandom(1);
        for (int trial = 0; trial < 600; trial++) {
            int[] g = randomGeometry(r);
            if (trial % 2 == 1) g[2] += 8 + r.nextInt(30);
            int c = g[0], h = g[1], w = g[2], k = g[3], s = g[4], p = g[5];
            int oh = Im2col.outputSize(h, k, s, p), ow = Im2col.outputSize(w, k, s, p);
            float[] x = random(r, 3 + c * h * w);
            float[] cols = random(r, 5 + c * k * k * oh * ow + 4); // stale contents must be overwritten
            float[] before = cols.clone();
            Im2col.im2col(x, 3, c, h, w, k, s, p, cols, 5);
            for (int i : new int[] {0, 1, 2, 3, 4, cols.length - 4, cols.length - 3, cols.length - 2, cols.length - 1}) {
                assertEquals(before[i], cols[i], 0f, () -> "a sentinel changed, geometry " + Arrays.toString(g));
            }
            for (int ci = 0; ci < c; ci++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                float expected = inside ? x[3 + (ci * h + iy) * w + ix] : 0f;
                                int at = 5 + ((ci * k + ky) * k + kx) * oh * ow + oy * ow + ox;
                                assertEquals(expected, cols[at], 0f, () -> "geometry " + Arrays.toString(g));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void im2rowIsIm2colTransposedAndWritesNothingElse() {
        // kernels past one vector (8 or 16 floats), strides, paddings wider than the kernel's
        // reach, images that end at the very end of x (no slack for whole-vector reads)
        SplittableRandom r = new SplittableRandom(4);
        for (int trial = 0; trial < 400; trial++) {
            int c = 1 + r.nextInt(4), h = 1 + r.nextInt(12), w = 1 + r.nextInt(40);
            int k = 1 + r.nextInt(trial % 4 == 0 ? 19 : 7), s = 1 + r.nextInt(3), p = r.nextInt(4);
            if (k > h + 2 * p || k > w + 2 * p) continue;
            int oh = Im2col.outputSize(h, k, s, p), ow = Im2col.outputSize(w, k, s, p);
            int plane = oh * ow, patch = c * k * k, before = r.nextInt(3), after = r.nextInt(3) * 7;
            float[] x = random(r, before + c * h * w + (trial % 2 == 0 ? 0 : r.nextInt(20)));
            float[] cols = new float[plane * patch];
            Im2col.im2col(x, before, c, h, w, k, s, p, cols, 0);
            float[] rows = random(r, 5 + plane * patch + after), stale = rows.clone();
            Im2col.im2row(x, before, c, h, w, k, s, p, rows, 5);
            String where = "channels " + c + ", " + h + "x" + w + ", kernel " + k + ", stride " + s + ", pad " + p;
            for (int q = 0; q < plane; q++) {
                for (int t = 0; t < patch; t++) {
                    assertEquals(cols[t * plane + q], rows[5 + q * patch + t], 0f, where + ": row " + q + ", tap " + t);
                }
            }
            for (int i = 0; i < 5; i++) assertEquals(stale[i], rows[i], 0f, where + ": wrote before the matrix");
            for (int i = 5 + plane * patch; i < rows.length; i++) assertEquals(stale[i], rows[i], 0f, where + ": wrote past the matrix");
        }
    }

    @Test
    void col2imIsTheAdjointOfIm2col() {
        // <im2col(x), y> == <x, col2im(y)> for all x, y: the defining property of a gradient
        SplittableRandom r = new SplittableRandom(2);
        for (int trial = 0; trial < 300; trial++) {
            int[] g = randomGeometry(r);
            int c = g[0], h = g[1], w = g[2], k = g[3], s = g[4], p = g[5];
            int n = c * k * k * Im2col.outputSize(h, k, s, p) * Im2col.outputSize(w, k, s, p);
            float[] x = random(r, c * h * w), y = random(r, n);
            float[] cols = new float[n];
            Im2col.im2col(x, 0, c, h, w, k, s, p, cols, 0);
            float[] back = new float[c * h * w];
            Im2col.col2im(y, 0, c, h, w, k, s, p, back, 0);
            double left = 0, right = 0;
            for (int i = 0; i < n; i++) left += (double) cols[i] * y[i];
            for (int i = 0; i < x.length; i++) right += (double) x[i] * back[i];
            assertEquals(left, right, 1e-4 * (1 + Math.abs(left)), () -> "geometry " + Arrays.toString(g));
        }
    }

    @Test
    void col2imAddsEveryTapInOrderBitForBitAndWritesNothingElse() {
        // the definition, one kernel offset after another (c, ky, kx), each onto the pixel it was
        // copied from: the order of the additions into a pixel fixes its bits; rows long enough
        // for several vectors, and the image at an offset between sentinels
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 300; trial++) {
            int c = 1 + r.nextInt(3), h = 1 + r.nextInt(12), w = 1 + r.nextInt(40);
            int k = 1 + r.nextInt(7), s = 1 + r.nextInt(3), p = r.nextInt(4);
            if (k > h + 2 * p || k > w + 2 * p) continue;
            int oh = Im2col.outputSize(h, k, s, p), ow = Im2col.outputSize(w, k, s, p), off = 1 + r.nextInt(5);
            float[] cols = random(r, c * k * k * oh * ow), x = random(r, off + c * h * w + 3);
            float[] expected = x.clone();
            for (int ch = 0, row = 0; ch < c; ch++) {
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++, row++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                expected[off + (ch * h + iy) * w + ix] += cols[row * oh * ow + oy * ow + ox];
                            }
                        }
                    }
                }
            }
            Im2col.col2im(cols, 0, c, h, w, k, s, p, x, off);
            for (int i = 0; i < x.length; i++) {
                int at = i;
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(x[i]),
                        () -> "element " + at + ", geometry c=" + c + " h=" + h + " w=" + w + " k=" + k + " s=" + s + " p=" + p);
            }
        }
    }

    @Test
    void col2imAccumulatesAtAnOffset() {
        float[] cols = {1, 2, 3, 4};  // 1 channel, 2x2 image, kernel 1: cols is the image itself
        float[] x = {9, 10, 10, 10, 10};
        Im2col.col2im(cols, 0, 1, 2, 2, 1, 1, 0, x, 1);
        assertEquals(9f, x[0]);
        assertEquals(11f, x[1]);
        assertEquals(14f, x[4]);
    }

    @Test
    void outputSizeFloorsAndRejectsWindowsThatDoNotFit() {
        assertEquals(28, Im2col.outputSize(28, 5, 1, 2));
        assertEquals(3, Im2col.outputSize(7, 2, 2, 0));
        assertEquals(4, Im2col.outputSize(7, 3, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> Im2col.outputSize(3, 5, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Im2col.outputSize(3, 1, 0, 0));
    }
}
