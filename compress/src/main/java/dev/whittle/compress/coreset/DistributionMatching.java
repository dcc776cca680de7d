package dev.whittle.compress.coreset;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;

/**
 * Dataset condensation by distribution matching (Zhao and Bilen 2023): learn a few synthetic
 * images per class whose mean embedding under a randomly initialised ConvNet matches the mean
 * embedding of a batch of real images of that class, with a fresh random network at every
 * iteration so the images match the class under many feature maps at once. The images start as
 * real samples of their class and move by SGD with momentum on the matching loss
 * {@code sum_c |mean_real_c - mean_syn_c|^2 / |mean_real_c|^2}; the gradient reaches the pixels
 * through {@link Sequential#setInputGradientNeeded}.
 *
 * <p>The embedding net is {@code convnet3(width)} without its final linear layer: three blocks of
 * {@code conv(width,3,pad=1) relu avgpool(2)}, then {@code flatten}. The paper's ConvNet has width
 * 128 with instance norm and runs 20,000 iterations on a GPU (SGD, image lr 1, momentum 0.5, 256
 * real images per class). whittle has no instance norm, and the output scale of a plain random
 * net shrinks layer by layer and varies from net to net, so each class's term is divided by
 * {@code |mean_real_c|^2}: the loss is a relative error, and one learning rate works whatever the
 * net's scale. Each image's step leaves out the {@code 1/count} of its class mean, so the step
 * does not grow as the budget shrinks. The defaults ({@link Config#defaults()}: width 16, 300
 * iterations, 64 real images per class per iteration, image lr 100, momentum 0.5) take under two
 * minutes on two cores for ten classes of ten images (mnist-10k). Measured there (10 images per
 * class, 300 iterations, 5 lenet-300-100 runs of 300 steps; random real images 78.9%): lr 3 gave
 * 79.1%, 30 gave 82.2%, 100 gave 83.9%, 300 gave 85.0%, and 1000 diverged; 100 keeps a wide
 * margin. A diverging run is reported by {@link #run} rather than written as NaN images.
 */
public final class DistributionMatching {

    /** The knobs: embedding width, iterations, real images per class per iteration, image lr and momentum, seed. */
    public record Config(int width, int iterations, int realBatch, float lr, float momentum, long seed) {

        public Config {
            if (width < 1 || iterations < 0 || realBatch < 1) {
                throw new IllegalArgumentException("width and real batch must be positive and iterations >= 0: " + this);
            }
            if (!(lr > 0) || !(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("bad lr or momentum: " + this);
        }

        public static Config defaults() {
            return new Config(16, 300, 64, 100f, 0.5f, 0);
        }

        public Config withIterations(int n) {
            return new Config(width, n, realBatch, lr, momentum, seed);
        }
    }

    /** The learned images and the matching loss of each iteration (on that iteration's net and real batch). */
    public record Result(ArrayDataset images, double[] losses) {}

    /** Called after each iteration with its loss. */
    public interface Listener {
        void onIteration(int iteration, double loss);
    }

    private DistributionMatching() {}

    /** The embedding net's spec for {@code width}. */
    public static String embeddingSpec(int width) {
        String block = "conv(" + width + ",3,pad=1) relu avgpool(2) ";
        return block + block + block + "flatten";
    }

    /**
     * Learns {@code budget.countFor(class size)} images for every class of {@code real}, starting
     * from real images drawn with the config's seed.
     */
    public static Result run(Dataset real, ClassIndex classes, Budget budget, Config config, Listener listener)
            throws BadInputException {
        int[] shape = real.sampleShape();
        int p = 1;
        for (int s : shape) p *= s;
        Rng rng = new Rng(config.seed() ^ 0x3C6EF372FE94F82BL);
        int k = classes.classes();
        int[] count = new int[k];
        int total = 0;
        for (int c = 0; c < k; c++) total += count[c] = budget.countFor(classes.size(c));
        float[] syn = new float[Math.multiplyExact(total, p)];
        int[] labels = new int[total];
        int row = 0;
        for (int c = 0; c < k; c++) {
            int[] m = classes.members(c);
            rng.shuffle(m);
            for (int i = 0; i < count[c]; i++, row++) {
                real.sample(m[i], syn, row * p);
                labels[row] = c;
            }
        }
        ArrayDataset images = new ArrayDataset(real.name() + " [distribution matching]", syn, labels, shape, real.numClasses());
        float[] velocity = new float[syn.length];
        double[] losses = new double[config.iterations()];
        String spec = embeddingSpec(config.width());
        for (int it = 0; it < config.iterations(); it++) {
            Sequential net = ArchSpec.build(spec, shape, config.seed() * 1_000_003L + it);
            net.setInputGradientNeeded(true);
            Tensor realBatch = realBatch(real, classes, config.realBatch(), rng, p, shape);
            int[] realLabels = realLabels(classes, config.realBatch());
            double[][] realMean = classMeans(net.forward(realBatch, false), realLabels, k);
            Tensor synZ = net.forward(new Tensor(syn, withBatch(total, shape)), true);
            double[][] synMean = classMeans(synZ, labels, k);
            int d = synZ.size() / total;
            float[] grad = new float[synZ.size()];
            double loss = 0;
            double[] weight = new double[k];
            for (int c = 0; c < k; c++) {
                if (count[c] == 0) continue;
                double diff2 = 0, norm2 = 0;
                for (int j = 0; j < d; j++) {
                    double diff = synMean[c][j] - realMean[c][j];
                    diff2 += diff * diff;
                    norm2 += realMean[c][j] * realMean[c][j];
                }
                weight[c] = 1 / (norm2 + 1e-12);
                loss += diff2 * weight[c];
            }
            for (int i = 0; i < total; i++) {
                int c = labels[i];
                // d loss / d syn_i carries 1/count[c]; dropping it gives every image the same step
                // whatever the budget (one image per class would otherwise move ten times as far as
                // one of ten), so one learning rate serves every --per-class
                double scale = 2 * weight[c];
                for (int j = 0; j < d; j++) grad[i * d + j] = (float) (scale * (synMean[c][j] - realMean[c][j]));
            }
            Tensor gx = net.backward(new Tensor(grad, synZ.shape()));
            float[] g = gx.data();
            for (int i = 0; i < syn.length; i++) {
                velocity[i] = config.momentum() * velocity[i] + g[i];
                syn[i] -= config.lr() * velocity[i];
            }
            if (!Double.isFinite(loss)) {
                throw new ArithmeticException("distribution matching diverged at iteration " + (it + 1) + " (loss " + loss
                        + "): lower the learning rate " + config.lr());
            }
            losses[it] = loss;
            listener.onIteration(it, loss);
        }
        return new Result(images, losses);
    }

    /**
     * The matching loss of {@code images} against the full classes of {@code real}, averaged over
     * {@code nets} random embedding nets from {@code seed}: a fixed yardstick, unlike the
     * per-iteration losses, whose nets and real batches change every time.
     */
    public static double matchingLoss(Dataset real, ClassIndex classes, Dataset images, int width, int nets, long seed)
            throws BadInputException {
        int k = classes.classes();
        double sum = 0;
        for (int n = 0; n < nets; n++) {
            Sequential net = ArchSpec.build(embeddingSpec(width), real.sampleShape(), seed + n);
            double[][] rm = classMeans(net, real, k);
            double[][] sm = classMeans(net, images, k);
            for (int c = 0; c < k; c++) {
                if (classes.size(c) == 0) continue;
                double diff2 = 0, norm2 = 0;
                for (int j = 0; j < rm[c].length; j++) {
                    diff2 += (sm[c][j] - rm[c][j]) * (sm[c][j] - rm[c][j]);
                    norm2 += rm[c][j] * rm[c][j];
                }
                sum += diff2 / (norm2 + 1e-12);
            }
        }
        return sum / nets;
    }

    /** Per-class mean embeddings of all of {@code data}, a batch of 256 at a time. */
    private static double[][] classMeans(Sequential net, Dataset data, int k) {
        int n = data.size(), bs = 256;
        int d = 1;
        for (int s : net.outputShape()) d *= s;
        double[][] mean = new double[k][d];
        int[] count = new int[k];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        dev.whittle.engine.train.Batch batch = new dev.whittle.engine.train.Batch(data, Math.max(1, Math.min(bs, n)));
        for (int from = 0; from < n; from += bs) {
            int m = Math.min(bs, n - from);
            float[] z = net.forward(batch.fill(data, order, from, m), false).data();
            int[] y = batch.labels();
            for (int i = 0; i < m; i++) {
                count[y[i]]++;
                for (int j = 0; j < d; j++) mean[y[i]][j] += z[i * d + j];
            }
        }
        for (int c = 0; c < k; c++) if (count[c] > 0) for (int j = 0; j < d; j++) mean[c][j] /= count[c];
        return mean;
    }

    private static Tensor realBatch(Dataset real, ClassIndex classes, int perClass, Rng rng, int p, int[] shape) {
        int k = classes.classes();
        int n = 0;
        for (int c = 0; c < k; c++) n += Math.min(perClass, classes.size(c));
        float[] x = new float[Math.multiplyExact(n, p)];
        int row = 0;
        for (int c = 0; c < k; c++) {
            int[] m = classes.members(c);
            int take = Math.min(perClass, m.length);
            // a partial Fisher-Yates shuffle: the first `take` entries are a uniform draw without replacement
            for (int i = 0; i < take; i++) {
                int j = i + rng.nextInt(m.length - i);
                int t = m[i];
                m[i] = m[j];
                m[j] = t;
                real.sample(m[i], x, row++ * p);
            }
        }
        return new Tensor(x, withBatch(n, shape));
    }

    /** The class of each row of {@link #realBatch}'s output, which lists the classes in order. */
    private static int[] realLabels(ClassIndex classes, int perClass) {
        IntList l = new IntList();
        for (int c = 0; c < classes.classes(); c++) for (int i = 0; i < Math.min(perClass, classes.size(c)); i++) l.add(c);
        return l.toArray();
    }

    private static double[][] classMeans(Tensor z, int[] labels, int k) {
        int n = labels.length, d = z.size() / Math.max(1, n);
        float[] v = z.data();
        double[][] mean = new double[k][d];
        int[] count = new int[k];
        for (int i = 0; i < n; i++) {
            count[labels[i]]++;
            for (int j = 0; j < d; j++) mean[labels[i]][j] += v[i * d + j];
        }
        for (int c = 0; c < k; c++) if (count[c] > 0) for (int j = 0; j < d; j++) mean[c][j] /= count[c];
        return mean;
    }

    private static int[] withBatch(int n, int[] shape) {
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }
}
