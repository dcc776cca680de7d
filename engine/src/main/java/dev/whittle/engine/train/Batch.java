package dev.whittle.engine.train;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Tensor;

/**
 * A reusable mini-batch buffer: samples are widened from the dataset's compact storage into one
 * float array per batch, so memory holds bytes and only a batch of floats at a time.
 */
public final class Batch {

    private final int[] sampleShape;
    private final int sampleSize;
    private final float[] data;
    private final int[] labels;
    private final int capacity;

    public Batch(Dataset dataset, int capacity) {
        this.sampleShape = dataset.sampleShape();
        int size = 1;
        for (int d : sampleShape) size *= d;
        this.sampleSize = size;
        this.capacity = capacity;
        this.data = new float[Math.multiplyExact(size, capacity)];
        this.labels = new int[capacity];
    }

    /**
     * Fills the batch with samples {@code order[from..from+count)} and returns them as a tensor
     * {@code [count, sampleShape...]} (sharing this buffer when {@code count} is the capacity).
     */
    public Tensor fill(Dataset dataset, int[] order, int from, int count) {
        for (int i = 0; i < count; i++) {
            int idx = order[from + i];
            dataset.sample(idx, data, i * sampleSize);
            labels[i] = dataset.label(idx);
        }
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = count;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        if (count == capacity) return new Tensor(data, shape);
        float[] part = new float[count * sampleSize];
        System.arraycopy(data, 0, part, 0, part.length);
        return new Tensor(part, shape);
    }

    /** The labels of the last {@link #fill}, valid for its {@code count} entries. */
    public int[] labels() {
        return labels;
    }
}
