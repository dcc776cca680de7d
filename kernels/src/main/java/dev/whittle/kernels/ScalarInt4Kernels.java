package dev.whittle.kernels;

/** The scalar twin of {@link Int4Kernels}: group by group, as the formulas read. */
public final class ScalarInt4Kernels implements Int4Kernels {

    private static final QuantKernels QUANT = new ScalarQuantKernels();

    @Override
    public void gemm(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        int n = w.rows(), k = w.cols(), gs = w.groupSize();
        for (int i = 0; i < m; i++) {
            int xo = xOff + i * k;
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int g = 0; g * gs < k; g++) {
                    float s = 0f;
                    for (int p = g * gs; p < Math.min(k, (g + 1) * gs); p++) s += w.get(j, p) * x[xo + p];
                    acc += s * w.scale(j, g);
                }
                y[yOff + i * n + j] = Int4Kernels.finish(acc, bias, j, relu);
            }
        }
    }

    @Override
    public void gemmA8(int m, float[] x, int xOff, Int4Matrix w, float[] bias, boolean relu, float[] y, int yOff) {
        Int4Kernels.check(m, x, xOff, w, bias, y, yOff);
        int n = w.rows(), k = w.cols(), gs = w.groupSize(), groups = w.paddedCols() / gs;
        byte[] q = new byte[w.paddedCols()];
        float[] sx = new float[groups];
        for (int i = 0; i < m; i++) {
            quantizeGroups(QUANT, x, xOff + i * k, k, gs, q, 0, sx, 0);
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int g = 0; g < groups; g++) {
                    int d = 0;
                    for (int p = g * gs; p < (g + 1) * gs; p++) d += w.get(j, p) * q[p];
                    acc += d * (w.scale(j, g) * sx[g]);
                }
                y[yOff + i * n + j] = Int4Kernels.finish(acc, bias, j, relu);
            }
        }
    }

    /**
     * Quantizes one activation row, group by group, to int8 in [-127, 127] with scale
     * {@code max|x| / 127} ({@link Quantization#symmetricScale}); the padding beyond {@code k}
     * becomes 0.
     */
    static void quantizeGroups(QuantKernels qk, float[] x, int xo, int k, int gs, byte[] q, int qOff,
                               float[] sx, int sOff) {
        int groups = Quantization.roundUp(k, gs) / gs;
        for (int g = 0; g < groups; g++) {
            int from = g * gs, len = Math.min(gs, k - from);
            float s = Quantization.symmetricScale(qk.absMax(x, xo + from, len), QuantRange.INT8_NARROW);
            sx[sOff + g] = s;
            qk.quantize(x, xo + from, len, s, 0, QuantRange.INT8_NARROW, q, qOff + from);
            for (int p = from + len; p < from + gs; p++) q[qOff + p] = 0;
        }
    }
}
