package dev.whittle.kernels;

/** The scalar twin of {@link Int8Kernels}: the sums as written, one output at a time. */
public final class ScalarInt8Kernels implements Int8Kernels {

    @Override
    public void gemvWidened(int n, int k, byte[] w, int wOff, float[] x, int xOff, float[] y, int yOff) {
        Int8Kernels.checkWidened(n, k, w, wOff, x, xOff, y, yOff);
        for (int r = 0; r < n; r++) {
            float s = 0f;
            for (int p = 0; p < k; p++) s = Math.fma(w[wOff + r * k + p], x[xOff + p], s);
            y[yOff + r] = s;
        }
    }

    @Override
    public void gemm(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, Int8Requantization rq, byte[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, rq.channels(), y.length, yOff);
        int n = w.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) y[yOff + i * n + j] = (byte) rq.requantize(acc(x, xOff + i * w.cols(), xZeroPoint, w, j), j);
        }
    }

    @Override
    public void gemmInt32(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, int[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        int n = w.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                y[yOff + i * n + j] = acc(x, xOff + i * w.cols(), xZeroPoint, w, j) + (bias == null ? 0 : bias[j]);
            }
        }
    }

    @Override
    public void gemmFloat(int m, byte[] x, int xOff, int xZeroPoint, Int8Matrix w, int[] bias, float[] scales,
                          boolean relu, float[] y, int yOff) {
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, bias == null ? -1 : bias.length, y.length, yOff);
        Int8Kernels.check(m, x, xOff, xZeroPoint, w, scales.length, y.length, yOff);
        int n = w.rows();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int a = acc(x, xOff + i * w.cols(), xZeroPoint, w, j) + (bias == null ? 0 : bias[j]);
                float v = a * scales[j];
                y[yOff + i * n + j] = relu ? Math.max(v, 0f) : v;
            }
        }
    }

    /** {@code sum_p (x[p] - zx) * W[j][p]}. */
    static int acc(byte[] x, int xo, int zx, Int8Matrix w, int j) {
        int s = 0;
        for (int p = 0; p < w.cols(); p++) s += (x[xo + p] - zx) * w.get(j, p);
        return s;
    }
}
