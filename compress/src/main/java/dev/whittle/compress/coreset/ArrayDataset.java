package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import java.util.Objects;

/** Samples held as normalised floats in memory: synthetic images, or a small subset copied out. */
public final class ArrayDataset implements Dataset {

    private final String name;
    private final float[] data;
    private final int[] labels;
    private final int[] shape;
    private final int sampleSize;
    private final int classes;

    /** Wraps {@code data} ({@code labels.length} samples of {@code shape}, not copied). */
    public ArrayDataset(String name, float[] data, int[] labels, int[] shape, int classes) {
        int size = 1;
        for (int d : shape) size *= d;
        if ((long) size * labels.length != data.length) {
            throw new IllegalArgumentException(labels.length + " samples of " + size + " values do not fill " + data.length);
        }
        this.name = name;
        this.data = data;
        this.labels = labels.clone();
        this.shape = shape.clone();
        this.sampleSize = size;
        this.classes = classes;
    }

    /** Copies {@code data} into memory. */
    public static ArrayDataset copyOf(Dataset d) {
        int size = 1;
        for (int s : d.sampleShape()) size *= s;
        float[] x = new float[Math.multiplyExact(size, d.size())];
        int[] y = new int[d.size()];
        for (int i = 0; i < y.length; i++) {
            d.sample(i, x, i * size);
            y[i] = d.label(i);
        }
        return new ArrayDataset(d.name(), x, y, d.sampleShape(), d.numClasses());
    }

    /** The samples, one after another (not a copy). */
    public float[] data() {
        return data;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int[] sampleShape() {
        return shape.clone();
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public void sample(int index, float[] dst, int offset) {
        Objects.checkIndex(index, labels.length);
        System.arraycopy(data, index * sampleSize, dst, offset, sampleSize);
    }
}
