package dev.whittle.engine.train;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;

/** A small in-memory {@link Dataset} of float samples, and the synthetic sets the training tests use. */
record ArrayDataset(String name, int[] shape, int numClasses, float[][] samples, int[] labels) implements Dataset {

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int[] sampleShape() {
        return shape.clone();
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public void sample(int index, float[] dst, int offset) {
        System.arraycopy(samples[index], 0, dst, offset, samples[index].length);
    }

    /**
     * Points in the plane on three concentric rings (radius 1, 2, 3 by class) with a little radial
     * noise: no line separates the classes, but a margin of about 0.5 does, so a hidden layer
     * learns them all.
     */
    static ArrayDataset rings(int n, long seed) {
        Rng rng = new Rng(seed);
        float[][] x = new float[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            double angle = 2 * Math.PI * rng.nextDouble();
            double r = (y[i] + 1) * (1 + 0.08 * rng.normal());
            x[i] = new float[] {(float) (r * Math.cos(angle)), (float) (r * Math.sin(angle))};
        }
        return new ArrayDataset("rings", new int[] {2}, 3, x, y);
    }

    /**
     * {@code [1, side, side]} grey images of three classes — a horizontal bar, a vertical bar, a
     * diagonal — at a random place, over Gaussian noise. Big enough that the kernels split their
     * work over threads.
     */
    static ArrayDataset bars(int n, int side, long seed) {
        Rng rng = new Rng(seed);
        float[][] x = new float[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(3);
            float[] img = new float[side * side];
            for (int p = 0; p < img.length; p++) img[p] = 0.3f * rng.normal();
            int at = rng.nextInt(side);
            for (int k = 0; k < side; k++) {
                int r = y[i] == 0 ? at : k, c = y[i] == 1 ? at : y[i] == 0 ? k : (k + at) % side;
                img[r * side + c] += 2f;
            }
            x[i] = img;
        }
        return new ArrayDataset("bars", new int[] {1, side, side}, 3, x, y);
    }
}
