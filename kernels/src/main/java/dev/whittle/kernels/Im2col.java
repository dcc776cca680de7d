package dev.whittle.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lowers a 2-D convolution to a matrix product (Chellapilla et al. 2006): {@link #im2col} copies
 * every {@code k x k} receptive field of one {@code [channels, height, width]} image into a
 * column, so that the weights seen as a {@code [out, channels*k*k]} matrix times the columns
 * {@code [channels*k*k, oh*ow]} is the convolution's output. {@link #col2im} is its adjoint and
 * carries column gradients back onto the pixels they came from.
 *
 * <pre>
 *   cols[(c*k + ky)*k + kx][oy*ow + ox] = x[c][oy*stride - pad + ky][ox*stride - pad + kx]
 *                                         (0 where that pixel lies in the zero padding)
 * </pre>
 *
 * Zero padding is never tested per element. With stride 1 and output rows of at least a vector,
 * the image is first copied into a zero-padded buffer and every row of a column is one run copied
 * as whole vectors; otherwise, for each kernel offset, the loops work out the range of output rows
 * and columns whose pixel lies inside the image, fill the rest with zeros and copy the inside.
 * {@link #col2im} uses the same ranges, and adds stride-1 runs as whole vectors.
 *
 * <p>{@link #im2row} writes the same matrix transposed, one row per output position
 * ({@code rows[oy*ow + ox][(c*k + ky)*k + kx]}): a convolution's weight gradient
 * {@code dW = dY . X^T} is then a plain product of two row-major matrices as they are stored.
 */
public final class Im2col {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** This thread's zero-padded copy of an image ({@link #padded}), grown to the largest seen. */
    private static final ThreadLocal<float[]> PADDED = ThreadLocal.withInitial(() -> new float[0]);

    private Im2col() {}

    /** The number of window positions along one axis: {@code floor((in + 2 pad - kernel) / stride) + 1}. */
    public static int outputSize(int in, int kernel, int stride, int pad) {
        if (kernel < 1 || stride < 1 || pad < 0 || in + 2 * pad < kernel) {
            throw new IllegalArgumentException("no window fits: input " + in + ", kernel " + kernel
                    + ", stride " + stride + ", pad " + pad);
        }
        return (in + 2 * pad - kernel) / stride + 1;
    }

    /**
     * Writes the {@code [channels*k*k, oh*ow]} column matrix of the image at {@code x[xOff..]}
     * into {@code cols[colsOff..]}, overwriting it.
     */
    public static void im2col(float[] x, int xOff, int channels, int height, int width,
                              int kernel, int stride, int pad, float[] cols, int colsOff) {
        int oh = outputSize(height, kernel, stride, pad), ow = outputSize(width, kernel, stride, pad);
        int plane = oh * ow;
        if (stride == 1 && ow >= L) {
            im2colRuns(x, xOff, channels, height, width, kernel, pad, oh, ow, cols, colsOff);
            return;
        }
        int row = colsOff;
        for (int c = 0; c < channels; c++) {
            int image = xOff + c * height * width;
            for (int ky = 0; ky < kernel; ky++) {
                int oy0 = firstInside(ky, stride, pad, oh), oy1 = endInside(height, ky, stride, pad, oh, oy0);
                for (int kx = 0; kx < kernel; kx++, row += plane) {
                    int ox0 = firstInside(kx, stride, pad, ow), ox1 = endInside(width, kx, stride, pad, ow, ox0);
                    // rows of output positions whose window row falls in the top or bottom padding
                    Arrays.fill(cols, row, row + oy0 * ow, 0f);
                    Arrays.fill(cols, row + oy1 * ow, row + plane, 0f);
                    for (int oy = oy0; oy < oy1; oy++) {
                        int dst = row + oy * ow;
                        // pixel of output column ox is src + ox*stride
                        int src = image + (oy * stride - pad + ky) * width - pad + kx;
                        Arrays.fill(cols, dst, dst + ox0, 0f);
                        if (stride == 1) {
                            // guarded: for an empty range src + ox0 may point outside x, which arraycopy rejects
                            if (ox1 > ox0) System.arraycopy(x, src + ox0, cols, dst + ox0, ox1 - ox0);
                        } else {
                            for (int ox = ox0; ox < ox1; ox++) cols[dst + ox] = x[src + ox * stride];
                        }
                        Arrays.fill(cols, dst + ox1, dst + ow, 0f);
                    }
                }
            }
        }
    }

    /**
     * {@link #im2col} for stride 1 and rows of at least a vector: from this thread's zero-padded
     * copy of the image ({@link #padded}) every row of a column is one run of {@code ow} pixels,
     * copied as whole vectors, the last one overlapping the one before. Per row, the general loop
     * makes two fills and an arraycopy call: LeNet-5's 6->16 5x5 on 14 x 14 (1,500 rows of 10)
     * took 8.2-8.6 us an image that way.
     */
    private static void im2colRuns(float[] x, int xOff, int channels, int height, int width, int kernel, int pad,
                                   int oh, int ow, float[] cols, int colsOff) {
        int ph = height + 2 * pad, pw = width + 2 * pad, plane = oh * ow;
        float[] image = padded(x, xOff, channels, height, width, pad, ph, pw, 0);
        int row = colsOff;
        for (int c = 0; c < channels; c++) {
            for (int ky = 0; ky < kernel; ky++) {
                for (int kx = 0; kx < kernel; kx++, row += plane) {
                    int from = (c * ph + ky) * pw + kx;
                    for (int oy = 0; oy < oh; oy++) {
                        int src = from + oy * pw, dst = row + oy * ow, ox = 0;
                        for (; ox + L < ow; ox += L) FloatVector.fromArray(S, image, src + ox).intoArray(cols, dst + ox);
                        FloatVector.fromArray(S, image, src + ow - L).intoArray(cols, dst + ow - L);
                    }
                }
            }
        }
    }

    /**
     * Writes the {@code [oh*ow, channels*k*k]} transpose of {@link #im2col}'s matrix into
     * {@code rows[rowsOff..]}, overwriting it: row {@code q = oy*ow + ox} is the receptive field of
     * output position q, {@code rows[q][(c*k + ky)*k + kx] = x[c][oy*stride - pad + ky][ox*stride - pad + kx]}
     * (0 in the padding).
     *
     * <p>A receptive field is {@code channels*k} runs of k pixels, contiguous in the image. The
     * image is first copied into a zero-padded buffer (this thread's, with a vector's slack at the
     * end), so that no run needs a bounds test; then the loops go over output rows, runs and
     * output columns, and each run is copied as whole vectors. A vector store that reaches past its
     * run only overwrites runs of the same row that are written later; where it would reach past
     * the row (the last runs of a row) it is masked. One image, one thread, medians of 21 rounds
     * in two runs, against {@link #im2col} plus the transpose of {@code dY} that {@code Conv2d}
     * needed with it: LeNet-5's 1->6 5x5 on 28 x 28 with pad 2 9.1-10.5 against 10.2-11.9 us,
     * 6->16 on 14 x 14 5.5-7.0 against 12.2-13.5. Testing each run against the image's borders
     * instead of padding the image first took about twice as long (21.6 against 10.3 us).
     */
    public static void im2row(float[] x, int xOff, int channels, int height, int width,
                              int kernel, int stride, int pad, float[] rows, int rowsOff) {
        int oh = outputSize(height, kernel, stride, pad), ow = outputSize(width, kernel, stride, pad);
        int ph = height + 2 * pad, pw = width + 2 * pad;
        int patch = channels * kernel * kernel, runs = channels * kernel;
        float[] image = padded(x, xOff, channels, height, width, pad, ph, pw, L);
        for (int oy = 0; oy < oh; oy++) {
            for (int run = 0; run < runs; run++) {
                int c = run / kernel, ky = run - c * kernel;
                // pixel (iy, ix) of channel c, padded coordinates, is image[(c*ph + iy)*pw + ix]
                int line = (c * ph + oy * stride + ky) * pw, to = rowsOff + oy * ow * patch + run * kernel;
                for (int kx = 0; kx < kernel; kx += L) {
                    int from = line + kx, at = to + kx;
                    if (run * kernel + kx + L <= patch) {
                        if (stride == 1) {
                            for (int ox = 0; ox < ow; ox++) FloatVector.fromArray(S, image, from + ox).intoArray(rows, at + ox * patch);
                        } else {
                            for (int ox = 0; ox < ow; ox++) FloatVector.fromArray(S, image, from + ox * stride).intoArray(rows, at + ox * patch);
                        }
                    } else {
                        VectorMask<Float> mask = S.indexInRange(kx, kernel);
                        for (int ox = 0; ox < ow; ox++) {
                            FloatVector.fromArray(S, image, from + ox * stride).intoArray(rows, at + ox * patch, mask);
                        }
                    }
                }
            }
        }
    }

    /**
     * This thread's buffer holding the image at {@code x[xOff..]} inside a border of zeros: channel
     * c's row r at {@code [(c*ph + r + pad)*pw + pad]}, rows {@code pw} floats long, {@code ph} rows
     * a channel ({@code ph >= height + 2 pad}, {@code pw >= width + 2 pad}), then {@code slack}
     * more zeros. Valid until this thread's next call ({@link #im2col}, {@link #im2row} and the
     * direct convolution never hold it across one).
     */
    static float[] padded(float[] x, int xOff, int channels, int height, int width, int pad, int ph, int pw, int slack) {
        int size = channels * ph * pw + slack;
        float[] image = PADDED.get();
        if (image.length < size) PADDED.set(image = new float[size]);
        Arrays.fill(image, 0, size, 0f);
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < height; r++) {
                System.arraycopy(x, xOff + (c * height + r) * width, image, (c * ph + r + pad) * pw + pad, width);
            }
        }
        return image;
    }

    /**
     * The adjoint of {@link #im2col}: adds each entry of the column matrix at {@code cols[colsOff..]}
     * onto the pixel of {@code x[xOff..]} it was copied from (entries from the padding are dropped).
     * Accumulates, so clear {@code x} first for a plain gradient.
     */
    public static void col2im(float[] cols, int colsOff, int channels, int height, int width,
                              int kernel, int stride, int pad, float[] x, int xOff) {
        int oh = outputSize(height, kernel, stride, pad), ow = outputSize(width, kernel, stride, pad);
        int plane = oh * ow;
        int row = colsOff;
        for (int c = 0; c < channels; c++) {
            int image = xOff + c * height * width;
            for (int ky = 0; ky < kernel; ky++) {
                int oy0 = firstInside(ky, stride, pad, oh), oy1 = endInside(height, ky, stride, pad, oh, oy0);
                for (int kx = 0; kx < kernel; kx++, row += plane) {
                    int ox0 = firstInside(kx, stride, pad, ow), ox1 = endInside(width, kx, stride, pad, ow, ox0);
                    for (int oy = oy0; oy < oy1; oy++) {
                        int from = row + oy * ow;
                        int dst = image + (oy * stride - pad + ky) * width - pad + kx;
                        if (stride == 1) {
                            addRun(cols, from + ox0, x, dst + ox0, ox1 - ox0);
                        } else {
                            for (int ox = ox0; ox < ox1; ox++) x[dst + ox * stride] += cols[from + ox];
                        }
                    }
                }
            }
        }
    }

    /**
     * {@code dst[to + i] += src[from + i]} for i below n: whole vectors, then the rest one by one
     * (the same additions, element by element, as a plain loop). The plain loop this replaced was
     * compiled by C2 (JDK 25.0.3) to scalar adds, four a step, and no vector adds at all: LeNet-5's
     * second convolution took 12.6-13.1 us an image in col2im, and takes 7.8-7.9 this way.
     */
    private static void addRun(float[] src, int from, float[] dst, int to, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, dst, to + i).add(FloatVector.fromArray(S, src, from + i)).intoArray(dst, to + i);
        }
        for (; i < n; i++) dst[to + i] += src[from + i];
    }

    /**
     * The first output position {@code o} whose pixel {@code o*stride - pad + offset} is {@code >= 0},
     * at most {@code out}. Stride 1 needs no division (an integer division costs tens of cycles, and
     * {@link #col2im} asks for these bounds for every kernel offset of every image).
     */
    private static int firstInside(int offset, int stride, int pad, int out) {
        int need = pad - offset;
        if (need <= 0) return 0;
        return Math.min(out, stride == 1 ? need : (need + stride - 1) / stride);
    }

    /** One past the last output position whose pixel is {@code < size}, at least {@code first}. */
    private static int endInside(int size, int offset, int stride, int pad, int out, int first) {
        int last = size - 1 + pad - offset; // o*stride must not exceed this
        if (last < 0) return first;
        return Math.max(first, Math.min(out, (stride == 1 ? last : last / stride) + 1));
    }
}
