package dev.whittle.engine;

/**
 * A trainable tensor and the gradient the backward pass accumulates into it. Its state-dict name
 * is the owning layer's index and this local name ({@code "2.weight"}).
 */
public final class Parameter {

    private final String localName;
    private final Tensor value;
    private final Tensor grad;
    private boolean[] mask;
    private long version;

    public Parameter(String localName, Tensor value) {
        this.localName = localName;
        this.value = value;
        this.grad = Tensor.zeros(value.shape());
    }

    /** The name within its layer: {@code weight}, {@code bias}. */
    public String localName() {
        return localName;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    /**
     * A pruning mask ({@code false} = pruned), or null. Where it is false the value is 0 and stays
     * 0: the optimizers skip those entries and keep their state (momentum, Adam's moments) at 0,
     * so fine-tuning never regrows a pruned weight.
     */
    public boolean[] mask() {
        return mask;
    }

    /**
     * A counter that moves whenever the value may have changed through the engine (an optimizer
     * step, a new mask, {@link #touch}): layers key what they derive from the value (a sparse
     * copy of a pruned weight) on it.
     */
    public long version() {
        return version;
    }

    /** Records that the value was changed in place. */
    public void touch() {
        version++;
    }

    /** Sets (or, with null, removes) the pruning mask and zeroes the pruned values. */
    public void setMask(boolean[] keep) {
        version++;
        if (keep != null && keep.length != value.size()) {
            throw new IllegalArgumentException("mask of " + keep.length + " entries for '" + localName + "' of " + value.size());
        }
        this.mask = keep == null ? null : keep.clone();
        if (mask != null) {
            float[] v = value.data();
            for (int i = 0; i < v.length; i++) if (!mask[i]) v[i] = 0f;
        }
    }
}
