package dev.whittle.engine.quant;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.AvgPool2d;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Dropout;
import dev.whittle.engine.nn.Flatten;
import dev.whittle.engine.nn.GlobalAvgPool;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.MaxPool2d;
import dev.whittle.engine.nn.ReLU;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.kernels.QuantParams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A model that runs on integer kernels: the architecture of a trained {@link Sequential}, with
 * some (usually all) of its Linear and Conv2d layers quantized. Between a quantize step at the
 * input and a dequantize folded into the last quantized layer, activations stay int8: each layer
 * requantizes its output straight to the next quantized layer's input scale, and ReLU, max
 * pooling, average pooling and flatten work on the int8 values (Jacob et al. 2018). A layer left
 * in FP32, or one with no integer form (tanh, sigmoid, batch norm), runs in float between a
 * dequantize and a quantize step.
 *
 * <pre>
 *   lenet-300-100, W8A8:   quantize | linear(300)+relu -> int8 | linear(100)+relu -> int8 | linear(10) -> fp32
 * </pre>
 */
public final class QuantizedModel implements Model {

    /**
     * How one Linear or Conv2d is quantized: its integer weights, what it takes as input, the
     * input's quantization (INT8 only), and its bias (null: the float layer's; bias correction
     * gives another).
     */
    public record LayerPlan(QuantizedWeights weights, ActivationMode activations, QuantParams input, float[] bias) {

        public LayerPlan(QuantizedWeights weights, ActivationMode activations, QuantParams input) {
            this(weights, activations, input, null);
        }
    }

    /** A layer of the architecture, by its index, and what runs it: a quantized layer or an FP32 one. */
    public record Entry(int index, String spec, QuantizedLayer quantized, Layer floatLayer) {}

    private final String arch;
    private final int[] inputShape;
    private final int[] outputShape;
    private final List<QuantizedLayer> steps;
    private final List<Entry> entries;
    private final long parameterCount;
    private final long flops;

    private QuantizedModel(String arch, int[] inputShape, int[] outputShape, List<QuantizedLayer> steps, List<Entry> entries,
                           long parameterCount, long flops) {
        this.arch = arch;
        this.inputShape = inputShape;
        this.outputShape = outputShape;
        this.steps = List.copyOf(steps);
        this.entries = List.copyOf(entries);
        this.parameterCount = parameterCount;
        this.flops = flops;
    }

    /**
     * Builds the quantized form of {@code model}: the layers named in {@code plans} (by index; each
     * a Linear or Conv2d) run on integer kernels with the given weights and the float model's bias;
     * the others keep the float model's layers (which the result shares, not copies).
     */
    public static QuantizedModel build(Sequential model, Map<Integer, LayerPlan> plans) {
        List<Layer> layers = model.layers();
        for (int i : plans.keySet()) {
            if (i < 0 || i >= layers.size() || !(layers.get(i) instanceof Linear || layers.get(i) instanceof Conv2d)) {
                throw new IllegalArgumentException("layer " + i + " is not a Linear or Conv2d and cannot be quantized");
            }
        }
        List<QuantizedLayer> steps = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        long params = 0;
        QuantParams domain = null;   // the int8 quantization of the current activations, null while FP32
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            LayerPlan plan = plans.get(i);
            if (plan == null) {
                QuantizedLayer step;
                if (domain != null && int8Form(l) != null) {
                    step = int8Form(l);
                } else {
                    if (domain != null) steps.add(new DequantizeStep(l.inputShape()));
                    domain = null;
                    step = new FloatStep(l);
                }
                steps.add(step);
                entries.add(new Entry(i, l.spec(), null, l));
                for (Parameter p : l.parameters()) params += p.value().size();
                continue;
            }
            if (plan.activations() == ActivationMode.INT8) {
                if (domain != null && !domain.equals(plan.input())) {
                    // int8 from a different quantization (only a hand-made plan does this): go through float
                    steps.add(new DequantizeStep(l.inputShape()));
                    domain = null;
                }
                if (domain == null) steps.add(new QuantizeStep(l.inputShape(), plan.input()));
            } else if (domain != null) {
                steps.add(new DequantizeStep(l.inputShape()));
            }
            boolean relu = i + 1 < layers.size() && layers.get(i + 1) instanceof ReLU;
            QuantParams output = nextInt8Input(layers, plans, relu ? i + 2 : i + 1);
            if (plan.activations() != ActivationMode.INT8) output = null;
            float[] bias = plan.bias() != null ? plan.bias()
                    : ((WeightedLayer) l).bias().value().data();
            QuantizedLayer q;
            if (l instanceof Linear) {
                q = new QuantizedLinear(plan.weights(), bias, plan.activations(), plan.input(), output, relu);
            } else {
                Conv2d c = (Conv2d) l;
                int after = relu ? i + 2 : i + 1;
                boolean pool = after < layers.size() && plans.get(after) == null && layers.get(after) instanceof MaxPool2d p
                        && p.kernelSize() == 2 && p.stride() == 2;
                q = new QuantizedConv2d(c.inputShape(), c.kernelSize(), c.stride(), c.padding(), plan.weights(), bias,
                        plan.activations(), plan.input(), output, relu, pool);
            }
            checkWeightShape(l, plan.weights());
            steps.add(q);
            entries.add(new Entry(i, l.spec(), q, null));
            params += (long) plan.weights().rows() * plan.weights().cols() + bias.length;
            domain = output;
            if (relu) {
                // the ReLU is the clamp of the layer's output; it stays in the list of layers
                i++;
                entries.add(new Entry(i, layers.get(i).spec(), null, layers.get(i)));
            }
            if (q instanceof QuantizedConv2d c && c.poolsFused()) {
                // so is the max pooling the convolution did
                i++;
                entries.add(new Entry(i, layers.get(i).spec(), null, layers.get(i)));
            }
        }
        if (domain != null) steps.add(new DequantizeStep(model.outputShape()));
        return new QuantizedModel(model.arch(), model.inputShape(), model.outputShape(), steps, entries, params, model.flops());
    }

    /**
     * The input quantization of the next layer that takes int8 when only int8-capable layers
     * (ReLU, pooling, flatten, dropout) lie between, else null (the output goes out as FP32).
     */
    private static QuantParams nextInt8Input(List<Layer> layers, Map<Integer, LayerPlan> plans, int from) {
        for (int j = from; j < layers.size(); j++) {
            LayerPlan p = plans.get(j);
            if (p != null) return p.activations() == ActivationMode.INT8 ? p.input() : null;
            if (int8Form(layers.get(j)) == null) return null;
        }
        return null;
    }

    /** The int8 step that does what {@code l} does, or null if it has none. */
    private static QuantizedLayer int8Form(Layer l) {
        if (l instanceof Flatten || l instanceof Dropout) return new Reshape(l.outputShape(), l.spec());
        if (l instanceof ReLU) return new Int8Relu(l.outputShape());
        if (l instanceof MaxPool2d p) return new Int8Pool2d(true, p.inputShape(), p.kernelSize(), p.kernelSize(), p.stride(), p.spec());
        if (l instanceof AvgPool2d p) return new Int8Pool2d(false, p.inputShape(), p.kernelSize(), p.kernelSize(), p.stride(), p.spec());
        if (l instanceof GlobalAvgPool p) {
            int[] s = p.inputShape();
            return new Int8Pool2d(false, s, s[1], s[2], 1, "gap");
        }
        return null;
    }

    private static void checkWeightShape(Layer l, QuantizedWeights w) {
        int rows = ((WeightedLayer) l).outputChannels(), cols = ((WeightedLayer) l).inputsPerOutput();
        if (w.rows() != rows || w.cols() != cols) {
            throw new IllegalArgumentException(l.spec() + " needs weights [" + rows + ", " + cols + "], got ["
                    + w.rows() + ", " + w.cols() + "]");
        }
    }

    @Override
    public synchronized Tensor predict(Tensor batch) {
        int[] shape = batch.shape();
        if (shape.length != inputShape.length + 1) {
            throw new IllegalArgumentException("expected a batch of " + java.util.Arrays.toString(inputShape) + ", got "
                    + java.util.Arrays.toString(shape));
        }
        Activations x = Activations.wrap(batch.data(), shape);
        for (QuantizedLayer s : steps) x = s.forward(x);
        int[] out = new int[outputShape.length + 1];
        out[0] = x.batch();
        System.arraycopy(outputShape, 0, out, 1, outputShape.length);
        // the last step's buffer is reused by the next call: the caller gets a copy
        return new Tensor(java.util.Arrays.copyOf(x.floats(), x.size()), out);
    }

    /** The steps that run, in order, including the quantize and dequantize steps. */
    public List<QuantizedLayer> steps() {
        return steps;
    }

    /** The layers of the architecture, one per index, each with what runs it. */
    public List<Entry> entries() {
        return entries;
    }

    /** The quantized layers by architecture index. */
    public Map<Integer, QuantizedLayer> quantizedLayers() {
        Map<Integer, QuantizedLayer> m = new java.util.LinkedHashMap<>();
        for (Entry e : entries) if (e.quantized() != null) m.put(e.index(), e.quantized());
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String arch() {
        return arch;
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public int[] outputShape() {
        return outputShape.clone();
    }

    @Override
    public long parameterCount() {
        return parameterCount;
    }

    @Override
    public long flops() {
        return flops;
    }
}
