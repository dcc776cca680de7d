package dev.whittle.datasets;

import dev.whittle.engine.Dataset;

import java.util.Objects;

/**
 * Grey images kept as unsigned bytes and widened to normalised floats one sample at a time.
 * A dataset may be a contiguous range of a larger image array (as {@code mnist-10k}'s splits are),
 * so splits share memory instead of copying it. Immutable, so any number of threads may read it.
 */
final class ImageDataset implements Dataset {

    private final String name;
    private final byte[] pixels;
    private final byte[] labels;
    private final int first;
    private final int size;
    private final int rows;
    private final int cols;
    private final int numClasses;
    private final PixelStats stats;
    /** Every byte value's normalised float, so sample() is one table look-up per pixel. */
    private final float[] normalised;

    /**
     * Images {@code first .. first+size-1} of {@code images}, labelled by the same positions of
     * {@code labels}; the labels must already have been checked to lie below {@code numClasses}.
     */
    ImageDataset(String name, IdxReader.Images images, byte[] labels, int first, int size, int numClasses, PixelStats stats) {
        Objects.checkFromIndexSize(first, size, images.count());
        if (labels.length != images.count()) {
            throw new IllegalArgumentException(labels.length + " labels for " + images.count() + " images");
        }
        this.name = name;
        this.pixels = images.pixels();
        this.labels = labels;
        this.first = first;
        this.size = size;
        this.rows = images.rows();
        this.cols = images.cols();
        this.numClasses = numClasses;
        this.stats = stats;
        this.normalised = stats.lookupTable();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int[] sampleShape() {
        return new int[] {1, rows, cols};
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, size);
        return labels[first + index] & 0xff;
    }

    @Override
    public void sample(int index, float[] dst, int offset) {
        Objects.checkIndex(index, size);
        int n = rows * cols;
        Objects.checkFromIndexSize(offset, n, dst.length);
        int base = (first + index) * n;
        for (int i = 0; i < n; i++) {
            dst[offset + i] = normalised[pixels[base + i] & 0xff];
        }
    }

    /** Sample {@code index}'s pixel bytes as stored, before normalisation. */
    byte[] rawPixels(int index) {
        Objects.checkIndex(index, size);
        int n = rows * cols, base = (first + index) * n;
        return java.util.Arrays.copyOfRange(pixels, base, base + n);
    }

    /** The training-split statistics this dataset is normalised with. */
    PixelStats stats() {
        return stats;
    }
}
