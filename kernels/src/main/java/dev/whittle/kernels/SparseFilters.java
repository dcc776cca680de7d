package dev.whittle.kernels;

/**
 * Pruned convolution filters laid out for {@link SparseKernels#conv2dSparse}: a stride-1
 * convolution of an input {@code [inC, H, W]} with {@code outC} square filters of size {@code k}
 * and zero padding {@code pad}, keeping only the nonzero taps ({@link #dense} keeps them all).
 *
 * <p>Each nonzero tap {@code w[o][c][ky][kx]} becomes a value and an offset into the input copied
 * into a zero-bordered plane. Output pixel {@code (oy, ox)} is numbered {@code q = oy * paddedWidth + ox}
 * (the columns {@code ox >= outW} of each such row are computed and thrown away), and the tap then
 * multiplies {@code padded[offset + q]}: one contiguous run for the whole output plane, which is
 * what lets a kernel keep several independent vectors of outputs in flight on small planes.
 *
 * <pre>
 *   padded  [inC][paddedHeight][paddedWidth] + slack   input at (pad, pad), zeros around it
 *   offset  = (c * paddedHeight + ky) * paddedWidth + kx
 *   paddedWidth = W + 2 pad;  q runs over 0 .. roundUp(outH * paddedWidth, 32) - 1
 *   slack   = k + roundUp(outH * paddedWidth, 32) - outH * paddedWidth   (zeros the last runs read)
 * </pre>
 *
 * Taps are kept per filter in the order (c, ky, kx), the order of the dense weight.
 */
public final class SparseFilters {

    final int outC, inC, height, width, kernel, pad, outH, outW, paddedHeight, paddedWidth;
    final int[] filterPointers;
    final int[] offsets;
    final float[] values;
    /** {@code pairs[o]}: filter o has taps, at the same offsets as filter o + 1's (so the two can run together). */
    final boolean[] pairs;

    private SparseFilters(int outC, int inC, int height, int width, int kernel, int pad, int[] filterPointers, int[] offsets,
                          float[] values) {
        this.outC = outC;
        this.inC = inC;
        this.height = height;
        this.width = width;
        this.kernel = kernel;
        this.pad = pad;
        this.outH = height + 2 * pad - kernel + 1;
        this.outW = width + 2 * pad - kernel + 1;
        this.paddedHeight = height + 2 * pad;
        this.paddedWidth = width + 2 * pad;
        this.filterPointers = filterPointers;
        this.offsets = offsets;
        this.values = values;
        this.pairs = new boolean[outC];
        for (int o = 0; o + 1 < outC; o++) {
            int a = filterPointers[o], b = filterPointers[o + 1], n = b - a;
            pairs[o] = n > 0 && filterPointers[o + 2] - b == n && java.util.Arrays.equals(offsets, a, b, offsets, b, b + n);
        }
    }

    /** Output positions computed per filter: {@code outH} rows of {@code paddedWidth}, rounded up to whole blocks of 32. */
    int positions() {
        return (outH * paddedWidth + 31) / 32 * 32;
    }

    /**
     * The nonzero taps of {@code weights [outC, inC, k, k]} (row-major, from offset 0) for inputs
     * {@code [inC, height, width]}.
     *
     * @throws IllegalArgumentException on a bad shape, an output smaller than one pixel, or a weight that is not finite
     */
    public static SparseFilters of(float[] weights, int outC, int inC, int height, int width, int kernel, int pad) {
        return build(weights, outC, inC, height, width, kernel, pad, false);
    }

    /**
     * Every tap of {@code weights}, its zeros too, so that all filters have their taps at the same
     * offsets and {@link SparseKernels#conv2dSparsePlanes} runs them two at a time (each input load
     * feeding both). For finite inputs the results are those of {@link #of} bit for bit: a zero tap
     * adds an exact zero to a chain that starts from +0 and so never holds -0. Worth it for filters
     * with few zeros.
     *
     * @throws IllegalArgumentException as {@link #of}
     */
    public static SparseFilters dense(float[] weights, int outC, int inC, int height, int width, int kernel, int pad) {
        return build(weights, outC, inC, height, width, kernel, pad, true);
    }

    private static SparseFilters build(float[] weights, int outC, int inC, int height, int width, int kernel, int pad, boolean zeros) {
        if (outC < 1 || inC < 1 || height < 1 || width < 1 || kernel < 1 || pad < 0) {
            throw new IllegalArgumentException("bad convolution: out " + outC + ", in " + inC + ", " + height + "x" + width
                    + ", kernel " + kernel + ", pad " + pad);
        }
        if (height + 2 * pad < kernel || width + 2 * pad < kernel) {
            throw new IllegalArgumentException("a " + kernel + "x" + kernel + " kernel does not fit a padded " + height + "x" + width + " input");
        }
        int patch = inC * kernel * kernel;
        if ((long) outC * patch != weights.length) {
            throw new IllegalArgumentException("weights hold " + weights.length + " values, expected " + outC + " x " + patch);
        }
        int nnz = 0;
        for (float v : weights) {
            if (!Float.isFinite(v)) throw new IllegalArgumentException("a weight is " + v + ", not finite");
            if (v != 0f || zeros) nnz++;
        }
        int ph = height + 2 * pad, pw = width + 2 * pad;
        int[] pointers = new int[outC + 1], offsets = new int[nnz];
        float[] values = new float[nnz];
        int t = 0;
        for (int o = 0; o < outC; o++) {
            for (int c = 0; c < inC; c++) {
                for (int ky = 0; ky < kernel; ky++) {
                    for (int kx = 0; kx < kernel; kx++) {
                        float v = weights[((o * inC + c) * kernel + ky) * kernel + kx];
                        if (v == 0f && !zeros) continue;
                        offsets[t] = (c * ph + ky) * pw + kx;
                        values[t++] = v;
                    }
                }
            }
            pointers[o + 1] = t;
        }
        return new SparseFilters(outC, inC, height, width, kernel, pad, pointers, offsets, values);
    }

    /** Floats the zero-bordered input copy needs (the caller's scratch, zeroed once). */
    public int paddedLength() {
        return inC * paddedHeight * paddedWidth + kernel + positions() - outH * paddedWidth;
    }

    /** Floats of the scratch plane {@link SparseKernels#conv2dSparse} computes one filter's outputs in. */
    public int planeLength() {
        return positions();
    }

    /** Copies one input {@code [inC, H, W]} at {@code x[xOff]} into the interior of {@code padded} (its borders stay as they are: zero). */
    public void fillPadded(float[] x, int xOff, float[] padded) {
        for (int c = 0; c < inC; c++) {
            for (int y = 0; y < height; y++) {
                System.arraycopy(x, xOff + (c * height + y) * width, padded, (c * paddedHeight + y + pad) * paddedWidth + pad, width);
            }
        }
    }

    /** Where input value {@code [c][y][x]} goes in the padded copy. */
    public int paddedIndex(int c, int y, int x) {
        return (c * paddedHeight + y + pad) * paddedWidth + x + pad;
    }

    /** The width of the padded input, which is also the row stride of the planes of {@link SparseKernels#conv2dSparsePlanes}. */
    public int paddedWidth() {
        return paddedWidth;
    }

    public int outputChannels() {
        return outC;
    }

    public int outputHeight() {
        return outH;
    }

    public int outputWidth() {
        return outW;
    }

    /** The taps kept: the nonzero weights, or every weight for filters made by {@link #dense}. */
    public int nnz() {
        return values.length;
    }

    /** Nonzero taps over all taps. */
    public double density() {
        return (double) values.length / ((long) outC * inC * kernel * kernel);
    }

    void checkPlanes(float[] padded, float[] planes, int off) {
        if (padded.length < paddedLength()) throw new IllegalArgumentException("padded scratch holds " + padded.length + " floats, needs " + paddedLength());
        if (off < 0 || (long) off + (long) outC * positions() > planes.length) {
            throw new IllegalArgumentException(outC + " planes of " + positions() + " at " + off + " do not fit in " + planes.length + " floats");
        }
    }

    void check(float[] padded, float[] plane, float[] y, int yOff) {
        if (padded.length < paddedLength()) throw new IllegalArgumentException("padded scratch holds " + padded.length + " floats, needs " + paddedLength());
        if (plane.length < planeLength()) throw new IllegalArgumentException("plane scratch holds " + plane.length + " floats, needs " + planeLength());
        if (yOff < 0 || (long) yOff + (long) outC * outH * outW > y.length) {
            throw new IllegalArgumentException("output [" + outC + ", " + outH + ", " + outW + "] at " + yOff + " does not fit in " + y.length + " floats");
        }
    }
}
