package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import java.util.Objects;

/** A view of chosen samples of a dataset, in the order given: nothing is copied. */
public final class Subset implements Dataset {

    private final Dataset base;
    private final int[] indices;

    public Subset(Dataset base, int[] indices) {
        for (int i : indices) Objects.checkIndex(i, base.size());
        this.base = base;
        this.indices = indices.clone();
    }

    /** The chosen indices into the base dataset (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public String name() {
        return base.name() + "[" + indices.length + " chosen]";
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int[] sampleShape() {
        return base.sampleShape();
    }

    @Override
    public int numClasses() {
        return base.numClasses();
    }

    @Override
    public int label(int index) {
        return base.label(indices[index]);
    }

    @Override
    public void sample(int index, float[] dst, int offset) {
        base.sample(indices[index], dst, offset);
    }
}
