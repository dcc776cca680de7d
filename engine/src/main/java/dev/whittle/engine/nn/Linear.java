package dev.whittle.engine.nn;

import dev.whittle.engine.Init;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.kernels.CsrMatrix;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.SparseKernels;
import java.util.List;

/** A fully connected layer, {@code y = x W^T + b}, with W stored {@code [out, in]} as in PyTorch. */
public final class Linear implements WeightedLayer {

    private static final FloatKernels K = Kernels.fp32();
    private static final SparseKernels SPARSE = Kernels.sparse();

    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor input;
    private Tensor output;
    private Tensor gradInput;
    private boolean inputGradientNeeded = true;

    public Linear(int in, int out, Rng rng) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("linear needs positive sizes, got " + in + " -> " + out);
        this.in = in;
        this.out = out;
        this.weight = new Parameter("weight", Tensor.zeros(out, in));
        this.bias = new Parameter("bias", Tensor.zeros(out));
        Init.pytorchDefault(weight.value(), in, rng);
        Init.pytorchDefault(bias.value(), in, rng);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    @Override
    public Parameter weight() {
        return weight;
    }

    @Override
    public Parameter bias() {
        return bias;
    }

    /**
     * The weight as CSR when it is sparse enough for the sparse kernels to win at inference
     * ({@link SparseKernels#BREAK_EVEN_DENSITY_GEMM}, measured by bench), rebuilt when the weight
     * changes; null while dense is faster.
     */
    private CsrMatrix sparse;
    private long sparseVersion = -1;
    private double density = 1;

    /** The fraction of nonzero weights, as of the last inference pass (1 before any). */
    public double density() {
        return density;
    }

    /** How an inference pass of {@code batch} samples runs this layer: "sparse" or "dense", and why. */
    public String executionAt(int batch) {
        double limit = breakEven(batch);
        String op = batch == 1 ? "batch 1" : "batched";
        return runsSparse(batch)
                ? String.format(java.util.Locale.ROOT, "sparse %s (density %.3f < %.2f)", op, density, limit)
                : String.format(java.util.Locale.ROOT, "dense %s (density %.3f >= %.2f)", op, density, limit);
    }

    /** The density below which a pass of {@code batch} samples is faster on the sparse kernels. */
    private static double breakEven(int batch) {
        return batch == 1 ? SparseKernels.BREAK_EVEN_DENSITY_GEMV : SparseKernels.BREAK_EVEN_DENSITY_GEMM;
    }

    /** Whether an inference pass of {@code batch} samples runs on the sparse kernels (the CSR is then current). */
    private boolean runsSparse(int batch) {
        refreshSparse();
        return sparse != null && density < breakEven(batch);
    }

    private void refreshSparse() {
        long v = weight.version();
        if (v == sparseVersion) return;
        float[] w = weight.value().data();
        int nnz = 0;
        for (float f : w) if (f != 0f) nnz++;
        density = (double) nnz / w.length;
        sparse = density < SparseKernels.BREAK_EVEN_DENSITY_GEMM ? CsrMatrix.of(w, 0, out, in) : null;
        sparseVersion = v;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int batch = x.dim(0);
        input = x;
        output = Buffers.ensure(output, batch, out);
        if (!training) {
            if (runsSparse(batch)) {
                // a pruned weight below the measured break-even: the CSR kernels
                SPARSE.spmmNT(batch, x.data(), 0, sparse, bias.value().data(), false, output.data(), 0);
                return output;
            }
        }
        if (batch == 1 && !training) {
            // batch-1 inference: y = W x streams W once (a GEMM would first pack all of W for
            // one row of output); the sums run in the GEMV's order, so they may differ from a
            // batched call's in the last bits
            K.gemv(out, in, weight.value().data(), 0, x.data(), 0, output.data(), 0, false);
            K.axpy(1f, bias.value().data(), 0, output.data(), 0, out);
            return output;
        }
        K.gemmNTBias(batch, out, in, x.data(), 0, weight.value().data(), 0, bias.value().data(), output.data(), 0, false);
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        int batch = gradOut.dim(0);
        // dW += g^T x ; db += column sums of g ; dx = g W
        K.gemmTN(out, in, batch, gradOut.data(), 0, input.data(), 0, weight.grad().data(), 0, true);
        K.columnSums(batch, out, gradOut.data(), 0, bias.grad().data(), true);
        if (!inputGradientNeeded) return null;
        gradInput = Buffers.ensure(gradInput, batch, in);
        K.gemmNN(batch, in, out, gradOut.data(), 0, weight.value().data(), 0, gradInput.data(), 0, false);
        return gradInput;
    }

    @Override
    public void setInputGradientNeeded(boolean needed) {
        inputGradientNeeded = needed;
    }

    @Override
    public int[] inputShape() {
        return new int[] {in};
    }

    @Override
    public int[] outputShape() {
        return new int[] {out};
    }

    @Override
    public String spec() {
        return "linear(" + out + ")";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public long flops() {
        return 2L * in * out;
    }
}
