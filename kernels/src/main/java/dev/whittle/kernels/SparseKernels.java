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
     * lower. Each nonzero costs an index load and a gathered x besides its FMA, about ten times a
     * dense element, so sparse pays only past 85-90% sparsity.
     *
     * <p>Measured 2026-11-28 ({@code SparseKernelBenchmark.main}, AMD EPYC Zen 3 at 2.45 GHz,
     * AVX2, one thread, median of 5-7 interleaved rounds on a host shared with other jobs), the
     * layers of lenet-300-100, microseconds sparse / dense:
     * <pre>
     *   density         0.05         0.10         0.15         0.20
     *   300x784   12.6 / 21.9  21.2 / 32.3  30.5 / 21.9  38.7 / 22.4   crossing 0.10, 0.11, 0.13 (3 runs)
     *   100x300    2.3 /  4.3   3.5 /  4.4   4.8 /  3.9   6.3 /  4.4   crossing 0.13, 0.15, 0.19
     * </pre>
     * The constant takes the low end of the crossings.
     */
    double BREAK_EVEN_DENSITY_GEMV = 0.12;

    /**
     * Below this density a sparse batch product ({@link #spmmNT}) beats the dense
     * {@code gemmNTBias} of the same layer; a layer run on a batch chooses sparse when its density
     * is lower. A batch amortises each nonzero's index over eight batch rows per vector, so sparse
     * pays much earlier than at batch 1.
     *
     * <p>Measured with {@link #BREAK_EVEN_DENSITY_GEMV}, batch 64, bias and ReLU, microseconds
     * sparse / dense:
     * <pre>
     *   density          0.10          0.30          0.40          0.50
     *   300x784   267.5 / 730.5  604.8 / 726.3  796.1 / 722.3  966.1 / 733.1   crossing 0.37, 0.38
     *   100x300    56.6 / 123.6  100.9 / 119.9  119.2 / 121.4  142.3 / 119.8   crossing 0.41, 0.36
     * </pre>
     * The constant takes the low end of the crossings (one thread; not measured on two).
     */
    double BREAK_EVEN_DENSITY_GEMM = 0.35;

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

    /**
     * Up to this density a stride-1 convolution at batch 1 runs on its nonzero taps
     * ({@link #conv2dSparse}) rather than the dense direct convolution. Measured 2026-11-28 (one
     * thread, median of 7 interleaved rounds, a host loaded by other jobs: read the ratios), sparse
     * over direct on LeNet-5's convolutions and their pruned-to-fewer-filters forms:
     * <pre>
     *   density            0.3    0.5    0.7    1.0
     *   6@28x28, 1 in     0.29   0.49   0.71   0.70
     *   4@28x28, 1 in     0.29   0.43   0.61   0.75
     *   16@10x10, 6 in    0.27   0.45   0.61   0.82
     *   12@10x10, 4 in    0.27   0.46   0.60   0.87
     * </pre>
     * The tap kernel runs a whole output plane as one run of four independent vectors, which the
     * direct convolution's rows of a few pixels cannot: it wins even with no zero at all, so every
     * density takes it (the constant is 1).
     */
    double BREAK_EVEN_DENSITY_CONV = 1.0;

    /**
     * {@code y[outC, outH, outW]} = the stride-1 convolution of {@code padded} (an input copied in by
     * {@link SparseFilters#fillPadded}) with the filters' nonzero taps, no bias; {@code plane} is the
     * caller's scratch of {@link SparseFilters#planeLength} floats (kept across calls, so a forward
     * pass allocates nothing). Each output element
     * is {@code s = fma(v_t, x_t, s)} from {@code s = 0} over its filter's taps in order: exact
     * whenever the operands are integers whose partial sums stay below 2^24, so a convolution of
     * int8 values gives the dense convolution's sums bit for bit.
     */
    void conv2dSparse(SparseFilters f, float[] padded, float[] plane, float[] y, int yOff);

    /**
     * The sums of {@link #conv2dSparse} left where the kernel computes them, for a caller that
     * reads the rows in place (pools or requantizes them) rather than having them copied out:
     * filter {@code o}'s output {@code (oy, ox)} at {@code planes[off + o * f.planeLength() + oy *
     * f.paddedWidth() + ox]}. The other positions of each plane (columns past the output's width,
     * the round-up after the last row) hold sums over padding and are to be ignored. {@code
     * planes} holds at least {@code off + outC * planeLength} floats.
     */
    void conv2dSparsePlanes(SparseFilters f, float[] padded, float[] planes, int off);
}
