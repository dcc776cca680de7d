package dev.whittle.engine.quant;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;

/** A layer that stays in FP32 inside a quantized model (kept for accuracy, or with no integer form). */
final class FloatStep implements QuantizedLayer {

    private final Layer layer;
    private final Activations y = new Activations();

    FloatStep(Layer layer) {
        this.layer = layer;
    }

    Layer layer() {
        return layer;
    }

    @Override
    public Activations forward(Activations x) {
        int[] batchShape = new int[x.shape().length + 1];
        batchShape[0] = x.batch();
        System.arraycopy(x.shape(), 0, batchShape, 1, x.shape().length);
        Tensor out = layer.forward(new Tensor(x.floats(), batchShape), false);
        return y.wrapFloats(out.data(), x.batch(), layer.outputShape());
    }

    @Override
    public int[] outputShape() {
        return layer.outputShape();
    }

    @Override
    public String spec() {
        return layer.spec();
    }

    @Override
    public String precision() {
        return "fp32";
    }

    @Override
    public long flops() {
        return layer.flops();
    }
}
