package dev.whittle.bench;

/**
 * One product timed by {@code whittle bench kernels}: {@code sgemm} is {@code C[m x n] = A . B}
 * with A {@code m x k} in the given layout ({@code nn} A.B, {@code nt} A.B^T, {@code tn} A^T.B);
 * {@code sgemv} is {@code y[m] = A[m x k] . x[k]}, written as a product with {@code n = 1}. The
 * integer kernels have the same shapes: {@code int8_gemv}/{@code int4_gemv} multiply an
 * {@code m x k} weight matrix by one activation vector; {@code int8_gemm}/{@code int4_gemm} take
 * {@code m} activation rows against an {@code n x k} weight matrix (A.B^T); their operations per
 * second are reported as GFLOPS, and a peer runs the FP32 product of the same shape.
 *
 * @param label where the shape comes from (a square, or a layer of a network's training step)
 */
public record KernelCase(String kernel, String layout, int m, int n, int k, String label) {

    public static KernelCase sgemm(String layout, int m, int n, int k, String label) {
        return new KernelCase("sgemm", layout, m, n, k, label);
    }

    public static KernelCase sgemv(int m, int k, String label) {
        return new KernelCase("sgemv", "n", m, 1, k, label);
    }

    /**
     * {@code y[m] = A[m x k] . x[k]} with A pruned to {@link KernelBench#SPMV_DENSITY} and held in CSR
     * form; its GFLOPS count the dense product's operations ({@code 2 m k}), so they compare
     * directly with the {@code sgemv} row of the same shape (and the peer runs that dense SGEMV).
     */
    public static KernelCase spmv(int m, int k, String label) {
        return new KernelCase("spmv", "n", m, 1, k, label);
    }

    /** An integer product ({@code int8_gemv}, {@code int8_gemm}, {@code int4_gemv}, {@code int4_gemm}). */
    public static KernelCase integer(String kernel, int m, int n, int k, String label) {
        return new KernelCase(kernel, kernel.endsWith("gemv") ? "n" : "nt", m, n, k, label);
    }

    /** Whether this is a matrix-vector product (n is 1). */
    public boolean isGemv() {
        return kernel.endsWith("gemv") || kernel.equals("spmv");
    }

    /** Floating-point operations of one call: a multiply and an add per term. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /** The shape as people write it: {@code 128x300x784} (m x n x k), or {@code 4096x4096} for a matrix-vector product. */
    public String shape() {
        return isGemv() ? m + "x" + k : m + "x" + n + "x" + k;
    }

    /** The request line the peer script reads. */
    String peerRequest() {
        // integer cases are compared with the FP32 product of the same shape
        return isGemv() ? "sgemv " + m + " " + k : "sgemm " + layout + " " + m + " " + n + " " + k;
    }
}
