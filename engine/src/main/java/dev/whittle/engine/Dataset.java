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

    /** The first {@code n} samples (all of them if there are fewer), as a view: nothing is copied. */
    default Dataset first(int n) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (n >= size()) return this;
        Dataset all = this;
        return new Dataset() {
            @Override
            public String name() {
                return all.name() + "[:" + n + "]";
            }

            @Override
            public int size() {
                return n;
            }

            @Override
            public int[] sampleShape() {
                return all.sampleShape();
            }

            @Override
            public int numClasses() {
                return all.numClasses();
            }

            @Override
            public int label(int index) {
                java.util.Objects.checkIndex(index, n);
                return all.label(index);
            }

            @Override
            public void sample(int index, float[] dst, int offset) {
                java.util.Objects.checkIndex(index, n);
                all.sample(index, dst, offset);
            }
        };
    }
}
