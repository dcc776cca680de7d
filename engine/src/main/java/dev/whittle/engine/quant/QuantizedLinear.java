package dev.whittle.engine.quant;

import dev.whittle.kernels.QuantParams;

/**
 * A fully connected layer on integer kernels, {@code y = x W^T + b} with W quantized to INT8 or
 * INT4 (see {@link IntegerProduct} for the arithmetic). Inference only: it is converted from a
 * trained {@link dev.whittle.engine.nn.Linear}, or read from a model file.
 */
public final class QuantizedLinear implements QuantizedLayer {

    /** Below this density pruned INT8 weights run on the sparse kernels at batch 1 (measured; see {@link IntegerProduct}). */
    public static final double SPARSE_DENSITY_BATCH_1 = IntegerProduct.SPARSE_INT8_GEMV_DENSITY;
    /** Below this density pruned INT8 weights run on the sparse kernels for a batch. */
    public static final double SPARSE_DENSITY_BATCHED = IntegerProduct.SPARSE_INT8_GEMM_DENSITY;

    private final int in;
    private final int out;
    private final IntegerProduct product;
    /** The per-sample output shape, shared with the output activations (never changed). */
    private final int[] shape;
    private final Activations y = new Activations();

    /**
     * @param input  the input's quantization for INT8 activations, else null
     * @param output the output's quantization when the next quantized layer takes int8, else null (FP32 out)
     * @param relu   whether a ReLU follows (fused: a clamp at the output)
     */
    public QuantizedLinear(QuantizedWeights weights, float[] bias, ActivationMode activations,
                           QuantParams input, QuantParams output, boolean relu) {
        this.in = weights.cols();
        this.out = weights.rows();
        this.shape = new int[] {out};
        this.product = new IntegerProduct(weights, bias, activations, input, output, relu);
    }

    @Override
    public Activations forward(Activations x) {
        product.checkInput(x, in);
        int batch = x.batch();
        int[] shape = this.shape;
        if (product.int8Output()) y.asInt8(batch, shape, product.outputScale, product.outputZeroPoint);
        else y.asFloats(batch, shape);
        product.multiply(batch, x.bytes(), x.floats(), 0, y.bytes(), y.floats(), 0);
        return y;
    }

    public QuantizedWeights weights() {
        return product.weights;
    }

    /** The float bias (a copy). */
    public float[] bias() {
        return product.bias.clone();
    }

    public ActivationMode activations() {
        return product.activations;
    }

    /** The input quantization (INT8 activations), else null. */
    public QuantParams inputQuantization() {
        return product.input;
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
    public String precision() {
        return product.precision();
    }

    @Override
    public long flops() {
        return 2L * in * out;
    }
}
