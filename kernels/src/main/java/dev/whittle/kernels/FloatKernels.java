package dev.whittle.kernels;

/**
 * The FP32 kernel contract: the handful of dense operations a neural network's forward and
 * backward passes are made of. Matrices are dense, row-major, addressed by an array and an
 * offset; leading dimensions are the natural ones (a row of an {@code m x n} matrix is {@code n}
 * floats).
 *
 * <p>Two implementations exist: {@link ScalarFloatKernels}, a few plain loops that say what each
 * operation computes, and {@link VectorFloatKernels} on the Vector API. {@link Kernels#fp32()}
 * picks one once at start-up.
 */
public interface FloatKernels {

    /** Returns {@code sum_i a[aOff+i] * b[bOff+i]} over {@code n} elements. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y += alpha * x} over {@code n} elements. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code C[m x n] (+)= A[m x k] . B[k x n]}; C is overwritten unless {@code accumulate}. */
    void gemmNN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                float[] c, int cOff, boolean accumulate);

    /**
     * Direct convolution of one {@code [channels, height, width]} image, stride 1, zero padding
     * {@code pad}, into {@code y[outChannels, oh, ow]}: each output is {@code bias[o]} followed by
     * one FMA chain over (c, ky, kx) in order with {@code w[outChannels, channels, k, k]}, the
     * padding's zeros included; the same bits as im2col then {@link #gemmNN} onto the bias.
     */
    void conv2dDirect(float[] x, int xOff, int channels, int height, int width, float[] w, float[] bias,
                      int outChannels, int kernel, int pad, float[] y, int yOff);

    /**
     * The weight gradient of a stride-1 convolution of one {@code [channels, height, width]} image
     * with zero padding {@code pad}, from the output gradient {@code dy[outChannels, oh, ow]}:
     * {@code dw[o][c][ky][kx]} = ({@code dw}'s old value when {@code accumulate}, else 0) followed by
     * one FMA chain over the output pixels {@code (oy, ox)} in order of
     * {@code dy[o][oy][ox] * x[c][oy + ky - pad][ox + kx - pad]} (0 in the padding); the same bits
     * as {@link Im2col#im2row} then {@link #gemmNN}{@code (outChannels, c*k*k, oh*ow, dy, rows, dw)}.
     */
    void conv2dWeightGradient(float[] x, int xOff, int channels, int height, int width, float[] dy, int dyOff,
                              int outChannels, int kernel, int pad, float[] dw, int dwOff, boolean accumulate);

    /** {@code C[m x n] (+)= A[m x k] . B[n x k]^T} (B stored with its rows as C's columns). */
    void gemmNT(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                float[] c, int cOff, boolean accumulate);

    /** {@code C[m x n] (+)= A[k x m]^T . B[k x n]} (A stored with its columns as C's rows). */
    void gemmTN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                float[] c, int cOff, boolean accumulate);

    /**
     * A Linear layer's forward pass in one sweep: {@code C[m x n] = A[m x k] . B[n x k]^T}, then
     * {@code bias[j]} added to column j (when {@code bias} is not null), then {@code max(., 0)}
     * (when {@code relu}). Gives the same bits as {@link #gemmNT} followed by {@link #addBias} and
     * {@link #relu}, without the two extra passes over C.
     */
    void gemmNTBias(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                    float[] bias, float[] c, int cOff, boolean relu);

    /** {@code y[m] (+)= A[m x n] . x[n]}. */
    void gemv(int m, int n, float[] a, int aOff, float[] x, int xOff,
              float[] y, int yOff, boolean accumulate);

    /** Adds {@code bias[j]} to every element of column {@code j} of {@code c[rows x cols]}. */
    void addBias(int rows, int cols, float[] bias, float[] c, int cOff);

    /** {@code dst[j] (+)= sum_i src[i][j]} for a {@code rows x cols} matrix (the bias gradient). */
    void columnSums(int rows, int cols, float[] src, int srcOff, float[] dst, boolean accumulate);

    /** {@code y = max(x, 0)}; {@code x} and {@code y} may be the same array. */
    void relu(float[] x, float[] y, int n);

    /** {@code gradIn = x > 0 ? gradOut : 0}, where {@code x} is the ReLU's input. */
    void reluBackward(float[] x, float[] gradOut, float[] gradIn, int n);

    /**
     * 2x2 max pooling with stride 2 of planes {@code [from, to)} of {@code height x width} floats
     * each, plane p at {@code x[p*height*width..]}: {@code y[p][oy][ox]} is the maximum of its
     * window, {@code at[p][oy][ox]} that pixel's index in x. The maximum is the first in the
     * order (0,0), (0,1), (1,0), (1,1), compared as {@link #poolKey} orders floats: -0 below +0,
     * every NaN above +infinity and equal to the others, so a NaN wins and propagates. The output
     * is {@code (height/2) x (width/2)} per plane, y and at indexed alike.
     */
    void maxPool2x2(float[] x, int height, int width, int from, int to, float[] y, int[] at);

    /** An int ordered as {@link #maxPool2x2} orders floats. */
    static int poolKey(float v) {
        int bits = Float.floatToIntBits(v); // NaNs come out as one positive pattern
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** Row-wise softmax of a {@code rows x cols} matrix, shifted by the row maximum for stability. */
    void softmax(int rows, int cols, float[] x, float[] y);

    /** Row-wise {@code log(softmax(x))}, computed as {@code x - max - log(sum(exp(x - max)))}; {@code x} and {@code y} must differ. */
    void logSoftmax(int rows, int cols, float[] x, float[] y);
}
