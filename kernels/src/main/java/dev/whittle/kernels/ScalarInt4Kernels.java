package dev.whittle.kernels;

/**
 * The scalar twin of {@link Int4Kernels}: group by group, as the formulas read. W4A8 adds the
 * scaled group dot products in eight float lanes, the order {@link VectorInt4Kernels} adds them
 * in (so both give the same bits): group g goes to lane {@code (g % 16) / 2}, the groups of a
 * block of 16 in turn, even before odd, and the lanes are summed last, lane 0 first.
 */
public final class ScalarInt4Kernels implements Int4Kernels {

    private static final QuantKernels QUANT = new ScalarQuantKernels();
    /** Groups per block: the short lanes of a 256-bit vector, which the vector version sums per group. */
    private static final int LANES = 16;

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
                float[] lanes = new float[LANES / 2];
                for (int b = 0; b * LANES < groups; b++) {
                    for (int parity = 0; parity < 2; parity++) {
                        for (int l = 0; l < LANES / 2; l++) {
                            int g = b * LANES + 2 * l + parity;
                            if (g >= groups) continue;
                            int d = 0;
                            for (int p = g * gs; p < (g + 1) * gs; p++) d += w.get(j, p) * q[p];
                            lanes[l] = Math.fma((float) d, w.scale(j, g) * sx[g], lanes[l]);
                        }
                    }
                }
                float acc = 0f;
                for (float v : lanes) acc += v;
                y[yOff + i * n + j] = Int4Kernels.finish(acc, bias, j, relu);
            }
        }
    }

    @Override
    public void dequantize(Int4Matrix w, int row0, int rows, float[] dst, int dstOff) {
        Int4Kernels.checkRows(w, row0, rows, dst, dstOff);
        int k = w.cols;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < k; c++) dst[dstOff + r * k + c] = w.get(row0 + r, c) * w.scale(row0 + r, c / w.groupSize);
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
