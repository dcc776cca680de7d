package dev.whittle.compress.quantize;

import dev.whittle.engine.Layer;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.util.List;

/**
 * Quantization-aware training of a Linear or Conv2d's weights: the forward pass runs on the weights
 * as they will be quantized ({@code scale * rint(w / scale)}, the same rounding as the conversion),
 * and the gradient flows to the float weights as if the rounding were not there (the
 * straight-through estimator, Bengio et al. 2013; Jacob et al. 2018). The float ("master") weights
 * are swapped in for the optimizer step after each backward pass.
 */
final class FakeQuantWeights implements Layer {

    private final Layer inner;
    private final Tensor weight;
    private final float[] master;
    private final int rows, cols, bits, groupSize;
    private final Granularity granularity;
    private byte[] codes = new byte[0];
    /** Whether the weight tensor holds the rounded values (between a forward and its backward). */
    private boolean rounded;

    FakeQuantWeights(Layer inner, int bits, Granularity granularity, int groupSize) {
        this.inner = inner;
        this.weight = ((WeightedLayer) inner).weight().value();
        this.rows = weight.dim(0);
        this.cols = weight.size() / rows;
        this.master = new float[weight.size()];
        this.bits = bits;
        this.granularity = granularity;
        this.groupSize = groupSize;
    }

    Layer inner() {
        return inner;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        restore();
        float[] w = weight.data();
        System.arraycopy(w, 0, master, 0, w.length);
        QuantParams p = params(master);
        int padded = p.paddedCols(cols);
        if (codes.length < rows * padded) codes = new byte[rows * padded];
        Quantization.quantize(master, 0, rows, cols, p, codes, 0);
        Quantization.dequantize(codes, 0, rows, cols, p, w, 0);
        ((WeightedLayer) inner).weight().touch();
        rounded = true;
        return inner.forward(x, training);
    }

    /** The symmetric min-max parameters {@link dev.whittle.engine.quant.QuantizedWeights#roundToNearest} chooses. */
    private QuantParams params(float[] w) {
        if (bits == 4) {
            float[] scales = QuantizedWeights.int4Scales(w, rows, cols, groupSize);
            return QuantParams.perGroup(QuantRange.INT4, groupSize, scales, new int[scales.length]);
        }
        if (granularity == Granularity.PER_CHANNEL) return Quantization.symmetricPerChannel(w, 0, rows, cols, QuantRange.INT8_NARROW);
        float a = 0f;
        for (float v : w) a = Math.max(a, Math.abs(v));
        return QuantParams.perTensor(QuantRange.INT8_NARROW, Quantization.symmetricScale(a, QuantRange.INT8_NARROW), 0);
    }

    @Override
    public Tensor backward(Tensor gradOut) {
        Tensor g = inner.backward(gradOut);
        restore();
        return g;
    }

    /** Puts the float weights back (after a backward pass, or when training ends). */
    void restore() {
        if (!rounded) return;
        System.arraycopy(master, 0, weight.data(), 0, master.length);
        ((WeightedLayer) inner).weight().touch();
        rounded = false;
    }

    @Override
    public int[] inputShape() {
        return inner.inputShape();
    }

    @Override
    public int[] outputShape() {
        return inner.outputShape();
    }

    @Override
    public String spec() {
        return inner.spec();
    }

    @Override
    public List<Parameter> parameters() {
        return inner.parameters();
    }

    @Override
    public List<NamedTensor> buffers() {
        return inner.buffers();
    }

    @Override
    public void setInputGradientNeeded(boolean needed) {
        inner.setInputGradientNeeded(needed);
    }

    @Override
    public long flops() {
        return inner.flops();
    }
}
