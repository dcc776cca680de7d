package dev.whittle.compress.coreset;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Batch;
import java.util.List;

/**
 * The space herding and k-center greedy measure distances in: the pixels themselves, or a
 * trained model's penultimate features (the input of its last {@code Linear}), as in Sener and
 * Savarese (2018), whose k-centers live in the final embedding of the network being trained.
 */
public final class Embedding {

    private static final int BATCH = 256;
    private final Sequential features; // null: pixel space
    private final int dim;

    private Embedding(Sequential features, int dim) {
        this.features = features;
        this.dim = dim;
    }

    /** The identity: distances between normalised pixels. */
    public static Embedding pixels(int[] sampleShape) {
        int d = 1;
        for (int s : sampleShape) d *= s;
        return new Embedding(null, d);
    }

    /**
     * The layers of {@code model} before its last {@code Linear} (sharing them, not copied); pixel
     * space when the model is a single linear layer.
     */
    public static Embedding penultimate(Sequential model) {
        Sequential f = featureExtractor(model);
        if (f == null) return pixels(model.inputShape());
        int d = 1;
        for (int s : f.outputShape()) d *= s;
        return new Embedding(f, d);
    }

    /** The part of {@code model} before its last {@code Linear}, or null if that is nothing. */
    static Sequential featureExtractor(Sequential model) {
        List<Layer> layers = model.layers();
        int last = -1;
        for (int i = 0; i < layers.size(); i++) if (layers.get(i) instanceof Linear) last = i;
        if (last < 0) throw new IllegalArgumentException("model " + model.arch() + " has no linear layer to take features before");
        if (last == 0) return null;
        return new Sequential(model.arch() + " [features]", model.inputShape(), layers.subList(0, last));
    }

    public int dim() {
        return dim;
    }

    public boolean isPixelSpace() {
        return features == null;
    }

    /** The embeddings of samples {@code indices} of {@code data}, row after row ({@code indices.length x dim}). */
    public float[] embed(Dataset data, int[] indices) {
        float[] out = new float[Math.multiplyExact(indices.length, dim)];
        if (features == null) {
            for (int i = 0; i < indices.length; i++) data.sample(indices[i], out, i * dim);
            return out;
        }
        Batch batch = new Batch(data, Math.max(1, Math.min(BATCH, indices.length)));
        for (int from = 0; from < indices.length; from += BATCH) {
            int count = Math.min(BATCH, indices.length - from);
            Tensor z = features.forward(batch.fill(data, indices, from, count), false);
            System.arraycopy(z.data(), 0, out, from * dim, count * dim);
        }
        return out;
    }
}
