package dev.whittle.bench;

/**
 * One product timed by {@code whittle bench kernels}: {@code sgemm} is {@code C[m x n] = A . B}
 * with A {@code m x k} in the given layout ({@code nn} A.B, {@code nt} A.B^T, {@code tn} A^T.B);
 * {@code sgemv} is {@code y[m] = A[m x k] . x[k]}, written as a product with {@code n = 1}.
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

    /** Floating-point operations of one call: a multiply and an add per term. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /** The shape as people write it: {@code 128x300x784} (m x n x k), or {@code 4096x4096} for a matrix-vector product. */
    public String shape() {
        return kernel.equals("sgemv") ? m + "x" + k : m + "x" + n + "x" + k;
    }

    /** The request line the peer script reads. */
    String peerRequest() {
        return kernel.equals("sgemv") ? "sgemv " + m + " " + k : "sgemm " + layout + " " + m + " " + n + " " + k;
    }
}
