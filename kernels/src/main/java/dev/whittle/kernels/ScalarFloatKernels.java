package dev.whittle.kernels;

/** The scalar twin of every FP32 kernel: the arithmetic as written in a textbook. */
public final class ScalarFloatKernels implements FloatKernels {

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void conv2dDirect(float[] x, int xOff, int channels, int height, int width, float[] w, float[] bias,
                             int outChannels, int kernel, int pad, float[] y, int yOff) {
        int oh = height + 2 * pad - kernel + 1, ow = width + 2 * pad - kernel + 1;
        for (int o = 0; o < outChannels; o++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float acc = bias[o];
                    int wi = o * channels * kernel * kernel;
                    for (int c = 0; c < channels; c++) {
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++, wi++) {
                                int iy = oy + ky - pad, ix = ox + kx - pad;
                                float v = iy >= 0 && iy < height && ix >= 0 && ix < width ? x[xOff + (c * height + iy) * width + ix] : 0f;
                                acc = Math.fma(w[wi], v, acc);
                            }
                        }
                    }
                    y[yOff + (o * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }

    @Override
    public void conv2dWeightGradient(float[] x, int xOff, int channels, int height, int width, float[] dy, int dyOff,
                                     int outChannels, int kernel, int pad, float[] dw, int dwOff, boolean accumulate) {
        int oh = height + 2 * pad - kernel + 1, ow = width + 2 * pad - kernel + 1;
        for (int o = 0; o < outChannels; o++) {
            for (int c = 0; c < channels; c++) {
                for (int ky = 0; ky < kernel; ky++) {
                    for (int kx = 0; kx < kernel; kx++) {
                        int wi = dwOff + ((o * channels + c) * kernel + ky) * kernel + kx;
                        float acc = accumulate ? dw[wi] : 0f;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy + ky - pad, ix = ox + kx - pad;
                                float v = iy >= 0 && iy < height && ix >= 0 && ix < width ? x[xOff + (c * height + iy) * width + ix] : 0f;
                                acc = Math.fma(dy[dyOff + (o * oh + oy) * ow + ox], v, acc);
                            }
                        }
                        dw[wi] = acc;
                    }
                }
            }
        }
    }

    @Override
    public void gemmNN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + p * n + j];
                c[cOff + i * n + j] = s;
            }
        }
    }

    @Override
    public void gemmNT(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + j * k + p];
                c[cOff + i * n + j] = s;
            }
        }
    }

    @Override
    public void gemmTN(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                       float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s += a[aOff + p * m + i] * b[bOff + p * n + j];
                c[cOff + i * n + j] = s;
            }
        }
    }

    @Override
    public void gemmNTBias(int m, int n, int k, float[] a, int aOff, float[] b, int bOff,
                           float[] bias, float[] c, int cOff, boolean relu) {
        gemmNT(m, n, k, a, aOff, b, bOff, c, cOff, false);
        if (bias != null) addBias(m, n, bias, c, cOff);
        if (relu) {
            for (int i = cOff; i < cOff + m * n; i++) c[i] = Math.max(c[i], 0f);
        }
    }

    @Override
    public void gemv(int m, int n, float[] a, int aOff, float[] x, int xOff,
                     float[] y, int yOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            float s = accumulate ? y[yOff + i] : 0f;
            for (int j = 0; j < n; j++) s += a[aOff + i * n + j] * x[xOff + j];
            y[yOff + i] = s;
        }
    }

    @Override
    public void addBias(int rows, int cols, float[] bias, float[] c, int cOff) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) c[cOff + i * cols + j] += bias[j];
        }
    }

    @Override
    public void columnSums(int rows, int cols, float[] src, int srcOff, float[] dst, boolean accumulate) {
        for (int j = 0; j < cols; j++) {
            float s = accumulate ? dst[j] : 0f;
            for (int i = 0; i < rows; i++) s += src[srcOff + i * cols + j];
            dst[j] = s;
        }
    }

    @Override
    public void relu(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) y[i] = Math.max(x[i], 0f);
    }

    @Override
    public void reluBackward(float[] x, float[] gradOut, float[] gradIn, int n) {
        for (int i = 0; i < n; i++) gradIn[i] = x[i] > 0f ? gradOut[i] : 0f;
    }

    @Override
    public void softmax(int rows, int cols, float[] x, float[] y) {
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[o + j]);
            float sum = 0f;
            for (int j = 0; j < cols; j++) {
                y[o + j] = (float) StrictMath.exp(x[o + j] - max);
                sum += y[o + j];
            }
            for (int j = 0; j < cols; j++) y[o + j] /= sum;
        }
    }

    @Override
    public void logSoftmax(int rows, int cols, float[] x, float[] y) {
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) max = Math.max(max, x[o + j]);
            float sum = 0f;
            for (int j = 0; j < cols; j++) sum += (float) StrictMath.exp(x[o + j] - max);
            float logSum = (float) StrictMath.log(sum);
            for (int j = 0; j < cols; j++) y[o + j] = x[o + j] - max - logSum;
        }
    }

    @Override
    public void maxPool2x2(float[] x, int height, int width, int from, int to, float[] y, int[] at) {
        int oh = height / 2, ow = width / 2;
        for (int p = from; p < to; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int corner = p * height * width + 2 * oy * width + 2 * ox, o = (p * oh + oy) * ow + ox, first = corner;
                    // the window in scan order: (0,0), (0,1), (1,0), (1,1)
                    for (int t = 1; t < 4; t++) {
                        int i = corner + (t >> 1) * width + (t & 1);
                        if (FloatKernels.poolKey(x[i]) > FloatKernels.poolKey(x[first])) first = i;
                    }
                    at[o] = first;
                    y[o] = x[first];
                }
            }
        }
    }
}
