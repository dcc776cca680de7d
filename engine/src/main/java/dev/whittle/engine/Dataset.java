package dev.whittle.engine;

/**
 * A labelled set of samples, each widened to normalised floats on demand. Implementations keep
 * their samples compactly (images as bytes) and convert one batch at a time.
 */
public interface Dataset {

    /** A short name for messages and reports, e.g. {@code fashion-mnist/train}. */
    String name();

    int size();

    /** The per-sample shape, e.g. {@code [1, 28, 28]} for a grey image or {@code [13]} for a table row. */
    int[] sampleShape();

    int numClasses();

    int label(int index);

    /** Writes sample {@code index}, normalised, into {@code dst} starting at {@code offset}. */
    void sample(int index, float[] dst, int offset);
}
