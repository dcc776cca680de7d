package dev.whittle.engine.nn;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A model: layers applied in order, with the architecture spec that built it and the per-sample
 * input shape. State-dict names follow PyTorch's {@code nn.Sequential}: {@code "<index>.<name>"}.
 */
public final class Sequential implements Model {

    private final String arch;
    private final int[] inputShape;
    private final List<Layer> layers;
    /** The first layer with parameters: backward can stop there unless the input gradient is wanted. */
    private final int firstTrainable;
    private boolean inputGradientNeeded;
    private Profile profile;

    public Sequential(String arch, int[] inputShape, List<Layer> layers) {
        this.arch = arch;
        this.inputShape = inputShape.clone();
        this.layers = List.copyOf(layers);
        int first = 0;
        while (first < this.layers.size() && this.layers.get(first).parameters().isEmpty()) first++;
        this.firstTrainable = Math.min(first, Math.max(0, this.layers.size() - 1));
        setInputGradientNeeded(false);
    }

    /**
     * Whether {@link #backward} returns the gradient with respect to the model's input (off by
     * default: training needs only parameter gradients; dataset distillation and input
     * attribution turn it on).
     */
    public void setInputGradientNeeded(boolean needed) {
        inputGradientNeeded = needed;
        if (!layers.isEmpty()) layers.get(firstTrainable).setInputGradientNeeded(needed);
    }

    /** The architecture spec, as given (a preset name or the free form). */
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
        return layers.isEmpty() ? inputShape() : layers.getLast().outputShape();
    }

    public List<Layer> layers() {
        return layers;
    }

    @Override
    public synchronized Tensor predict(Tensor batch) {
        // the last layer's output buffer is reused by the next call: the caller gets a copy
        Tensor y = forward(batch, false);
        return new Tensor(java.util.Arrays.copyOf(y.data(), y.size()), y.shape());
    }

    public Tensor forward(Tensor x, boolean training) {
        if (profile == null) {
            for (Layer l : layers) x = l.forward(x, training);
            return x;
        }
        for (int i = 0; i < layers.size(); i++) {
            long t0 = System.nanoTime();
            x = layers.get(i).forward(x, training);
            profile.addForward(i, System.nanoTime() - t0);
        }
        return x;
    }

    /** Starts recording per-layer times into {@code p} (null stops). */
    public void setProfile(Profile p) {
        this.profile = p;
    }

    /** The profile being recorded, or null. */
    public Profile profile() {
        return profile;
    }

    /**
     * Back-propagates the loss gradient, accumulating parameter gradients; returns the gradient
     * with respect to the input, or {@code null} unless {@link #setInputGradientNeeded} asked for it.
     */
    public Tensor backward(Tensor grad) {
        int stop = inputGradientNeeded ? 0 : firstTrainable;
        for (int i = layers.size() - 1; i >= stop; i--) {
            long t0 = profile == null ? 0 : System.nanoTime();
            grad = layers.get(i).backward(grad);
            if (profile != null) profile.addBackward(i, System.nanoTime() - t0);
        }
        return inputGradientNeeded ? grad : null;
    }

    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>();
        for (Layer l : layers) all.addAll(l.parameters());
        return Collections.unmodifiableList(all);
    }

    /** Sets every parameter gradient to zero. */
    public void zeroGrad() {
        for (Parameter p : parameters()) p.grad().zero();
    }

    /** Parameters then buffers of each layer, named {@code "<index>.<name>"}, in layer order. */
    public List<NamedTensor> stateDict() {
        List<NamedTensor> state = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            for (Parameter p : l.parameters()) state.add(new NamedTensor(i + "." + p.localName(), p.value()));
            for (NamedTensor b : l.buffers()) state.add(new NamedTensor(i + "." + b.name(), b.tensor()));
        }
        return state;
    }

    /**
     * A deep copy: the same architecture, parameters (with their pruning masks) and buffers, sharing
     * nothing with this model.
     */
    public Sequential copy() {
        Sequential c;
        try {
            c = ArchSpec.build(arch, inputShape, 0L);
        } catch (dev.whittle.engine.BadInputException e) {
            throw new IllegalStateException("a model's own architecture did not rebuild: " + e.getMessage(), e);
        }
        for (int i = 0; i < layers.size(); i++) copyState(layers.get(i), c.layers.get(i));
        return c;
    }

    /** Copies parameters (values and masks) and buffers between two layers of the same kind and shapes. */
    public static void copyState(Layer from, Layer to) {
        List<Parameter> a = from.parameters(), b = to.parameters();
        for (int k = 0; k < a.size(); k++) {
            System.arraycopy(a.get(k).value().data(), 0, b.get(k).value().data(), 0, a.get(k).value().size());
            b.get(k).setMask(a.get(k).mask());
        }
        List<NamedTensor> x = from.buffers(), y = to.buffers();
        for (int k = 0; k < x.size(); k++) System.arraycopy(x.get(k).tensor().data(), 0, y.get(k).tensor().data(), 0, x.get(k).tensor().size());
    }

    /** The number of trainable scalars. */
    @Override
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().size();
        return n;
    }

    /** Forward operations for one sample. */
    @Override
    public long flops() {
        long f = 0;
        for (Layer l : layers) f += l.flops();
        return f;
    }
}
