package dev.whittle.engine.quant;

import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantKernels;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;

/** FP32 to int8 with one calibrated (scale, zero point): where a model enters integers. */
final class QuantizeStep implements QuantizedLayer {

    private static final QuantKernels QUANT = Kernels.quant();

    private final int[] shape;
    private final float scale;
    private final int zeroPoint;
    private final Activations y = new Activations();

    QuantizeStep(int[] shape, QuantParams params) {
        this.shape = shape.clone();
        this.scale = params.scales()[0];
        this.zeroPoint = params.zeroPoints()[0];
    }

    @Override
    public Activations forward(Activations x) {
        y.asInt8(x.batch(), shape, scale, zeroPoint);
        QUANT.quantize(x.floats(), 0, x.size(), scale, zeroPoint, QuantRange.INT8, y.bytes(), 0);
        return y;
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return "quantize";
    }

    @Override
    public String precision() {
        return "fp32 -> int8 (scale " + scale + ", zero point " + zeroPoint + ")";
    }
}
