package dev.whittle.engine.quant;

import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantRange;

/** Int8 back to FP32, {@code (q - zeroPoint) * scale}: where a model leaves integers. */
final class DequantizeStep implements QuantizedLayer {

    private static final QuantKernels QUANT = Kernels.quant();

    private final int[] shape;
    private final Activations y = new Activations();

    DequantizeStep(int[] shape) {
        this.shape = shape.clone();
    }

    @Override
    public Activations forward(Activations x) {
        y.asFloats(x.batch(), shape);
        QUANT.dequantize(x.bytes(), 0, x.size(), x.scale(), x.zeroPoint(), QuantRange.INT8, y.floats(), 0);
        return y;
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return "dequantize";
    }

    @Override
    public String precision() {
        return "int8 -> fp32";
    }
}
