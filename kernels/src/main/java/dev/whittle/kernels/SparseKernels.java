package dev.whittle.kernels;

/**
 * Products of a pruned weight matrix ({@link CsrMatrix}) with dense activations: the forward pass
 * of a sparse Linear layer, at batch 1 ({@link #spmv}) and for a batch ({@link #spmmNT}).
 *
 * <p><b>Order of operations.</b> Every output element {@code sum_t A[r][c_t] * x[c_t]} over the
 * nonzeros {@code t = 0 .. n-1} of row r (in column order) is computed the same way, in both
 * products, on any thread count:
 *
 * <pre>
 *   g = 8 * floor(n / 8)                         nonzeros in whole groups of eight
 *   part[l] = 0,  l = 0..7
 *   for t in 0 .. g-1:  part[t mod 8] = fma(v_t, x[c_t], part[t mod 8])
 *   s = ((((0 + part[0]) + part[1]) + ...) + part[7])
 *   for t in g .. n-1:  s = fma(v_t, x[c_t], s)
 *   y = s  (spmmNT: then y = s + bias[r], then max(y, 0) for ReLU)
 * </pre>
 *
 * The eight partial sums are the lanes of one 256-bit vector: a row's nonzeros are gathered eight
 * at a time (spmv), or eight nonzeros in a row feed eight independent accumulators (spmmNT). The
 * scalar twin {@link ScalarSparseKernels} spells the order out; the vector version gives the same
 * bits.
 *
 * <p>Every implementation checks its arguments the same way and throws
 * {@link IllegalArgumentException} when an operand does not fit its array or the bias is short.
 */
public interface SparseKernels {

    /**
     * Below this density a sparse matrix-vector product ({@link #spmv}) beats the dense
     * {@code gemv} of the same matrix; a layer run at batch 1 chooses sparse when its density is
     * lower.
     */
    double BREAK_EVEN_DENSITY_GEMV = 0.30;

    /**
     * Below this density a sparse batch product ({@link #spmmNT}) beats the dense
     * {@code gemmNTBias} of the same layer; a layer run on a batch chooses sparse when its density
     * is lower.
     */
    double BREAK_EVEN_DENSITY_GEMM = 0.10;

    /**
     * {@code y[rows] = A . x[cols]}: a Linear layer with weight A {@code [out x in]} at batch 1.
     * {@code x} and {@code y} must not overlap.
     */
    void spmv(CsrMatrix a, float[] x, int xOff, float[] y, int yOff);

    /**
     * {@code y[m x rows] = x[m x cols] . A^T}, then {@code bias[r]} added to column r (when
     * {@code bias} is not null), then {@code max(., 0)} (when {@code relu}): a sparse Linear's
     * forward pass for a batch. Rows of x are {@code cols} apart, rows of y {@code rows} apart;
     * {@code x} and {@code y} must not overlap.
     */
    void spmmNT(int m, float[] x, int xOff, CsrMatrix a, float[] bias, boolean relu, float[] y, int yOff);
}
