package dev.whittle.kernels;

/**
 * The scalar twin of the sparse kernels: one row's dot product with x, in the order
 * {@link SparseKernels} fixes (eight interleaved partial sums over whole groups of eight
 * nonzeros, added in order, then the rest one by one).
 */
public final class ScalarSparseKernels implements SparseKernels {

    /** Partial sums per row: the lanes of a 256-bit vector. */
    static final int GROUP = 8;

    @Override
    public void spmv(CsrMatrix a, float[] x, int xOff, float[] y, int yOff) {
        a.checkSpmv(x, xOff, y, yOff);
        for (int r = 0; r < a.rows(); r++) y[yOff + r] = row(a, r, x, xOff);
    }

    @Override
    public void spmmNT(int m, float[] x, int xOff, CsrMatrix a, float[] bias, boolean relu, float[] y, int yOff) {
        a.checkSpmmNT(m, x, xOff, bias, y, yOff);
        int rows = a.rows(), cols = a.cols();
        for (int b = 0; b < m; b++) {
            for (int r = 0; r < rows; r++) {
                float s = row(a, r, x, xOff + b * cols);
                if (bias != null) s += bias[r];
                if (relu) s = Math.max(s, 0f);
                y[yOff + b * rows + r] = s;
            }
        }
    }

    /** {@code sum_t A[r][c_t] * x[c_t]} in the fixed order. */
    static float row(CsrMatrix a, int r, float[] x, int xOff) {
        int[] col = a.columnIndices;
        float[] val = a.values;
        int p = a.rowPointers[r], end = a.rowPointers[r + 1];
        int grouped = p + (end - p) / GROUP * GROUP;
        float[] part = new float[GROUP];
        for (; p < grouped; p += GROUP) {
            for (int l = 0; l < GROUP; l++) part[l] = Math.fma(val[p + l], x[xOff + col[p + l]], part[l]);
        }
        float s = 0f;
        for (int l = 0; l < GROUP; l++) s += part[l];
        for (; p < end; p++) s = Math.fma(val[p], x[xOff + col[p]], s);
        return s;
    }

    @Override
    public void conv2dSparsePlanes(SparseFilters f, float[] padded, float[] planes, int off) {
        f.checkPlanes(padded, planes, off);
        int positions = f.planeLength();
        for (int o = 0; o < f.outC; o++) {
            for (int q = 0; q < positions; q++) {
                float s = 0f;
                for (int t = f.filterPointers[o]; t < f.filterPointers[o + 1]; t++) s = Math.fma(f.values[t], padded[f.offsets[t] + q], s);
                planes[off + o * positions + q] = s;
            }
        }
    }

    @Override
    public void conv2dSparse(SparseFilters f, float[] padded, float[] plane, float[] y, int yOff) {
        f.check(padded, plane, y, yOff);
        for (int o = 0; o < f.outC; o++) {
            for (int oy = 0; oy < f.outH; oy++) {
                for (int ox = 0; ox < f.outW; ox++) {
                    float s = 0f;
                    for (int t = f.filterPointers[o]; t < f.filterPointers[o + 1]; t++) {
                        s = Math.fma(f.values[t], padded[f.offsets[t] + oy * f.paddedWidth + ox], s);   // q = oy * pw + ox
                    }
                    y[yOff + (o * f.outH + oy) * f.outW + ox] = s;
                }
            }
        }
    }
}
