package dev.whittle.compress.distill;

import dev.whittle.engine.Dataset;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.optim.Adam;
import dev.whittle.engine.optim.Optimizer;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a student from a teacher (Hinton et al. 2015; FitNets hints, Romero et al. 2015): each
 * step the teacher, in inference mode, sees the same batch as the student; the student learns from
 * {@link DistillationLoss} plus any {@link FeatureHint}s. The loop is the training loop of
 * {@link dev.whittle.engine.train.Trainer} (the same shuffling from the seed, the same Adam, the same
 * dropped one-sample batch), so with alpha = 0, no hints and no shifts it trains exactly as that
 * does: the scratch baseline. With shifts the teacher labels each shifted batch afresh; the shifts
 * depend on the seed alone, so the scratch baseline with the same seed sees the same images.
 */
public final class Distiller {

    /** Teacher logits for the whole training set are cached only up to this share of the heap. */
    private static final double CACHE_SHARE_OF_HEAP = 0.25;

    private Distiller() {}

    /** The teacher's logits would not fit in memory: the message says how large and what to do. */
    public static final class CacheTooLargeException extends RuntimeException {
        CacheTooLargeException(String message) {
            super(message);
        }
    }

    /**
     * Distils {@code teacher} into {@code student} (trained in place) on {@code train};
     * {@code test} (may be null) is evaluated after each epoch for the listener only.
     */
    public static List<EpochStats> fit(Model teacher, Sequential student, Dataset train, Dataset test, DistillConfig config,
                                       TrainingListener listener) {
        List<FeatureHint> hints = hints(teacher, student, config);
        boolean needTeacher = config.alpha() > 0f || !hints.isEmpty();
        int classes = student.outputShape()[0];
        int n = train.size();
        RandomShift jitter = config.shift() > 0 ? new RandomShift(config.shift(), config.seed() ^ 0xC2B2AE3D27D4EB4FL) : null;
        int bs = Math.min(config.batchSize(), n);
        float[] cache = null;
        if (needTeacher && config.cacheTeacher() && hints.isEmpty()) {
            if (jitter == null) {
                cache = teacherLogits(teacher, train, classes, null);
            } else if ((long) jitter.shifts() * n <= config.steps() * bs && fitsCache((long) jitter.shifts() * n * classes)) {
                // every shift of every image costs fewer teacher passes than labelling each step's batch
                cache = teacherLogits(teacher, train, classes, new RandomShift(config.shift(), 0));
            }
        }
        List<Parameter> params = new ArrayList<>(student.parameters());
        for (FeatureHint h : hints) params.addAll(h.parameters());
        Optimizer opt = Adam.adam(params, config.learningRate(), 0f);
        DistillationLoss loss = new DistillationLoss(config.temperature(), config.alpha());
        Rng shuffle = new Rng(config.seed() ^ 0x9E3779B97F4A7C15L);   // as Trainer shuffles
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int used = bs > 1 && n % bs == 1 ? n - 1 : n;   // as Trainer drops a last one-sample batch
        int batches = Trainer.batchesPerEpoch(n, bs);
        Batch batch = new Batch(train, bs);
        float[] teacherBatch = new float[bs * classes];
        int[] drawn = new int[bs];
        List<EpochStats> history = new ArrayList<>();
        List<Layer> layers = student.layers();
        Tensor[] studentOut = new Tensor[layers.size()];
        long step = 0;
        for (int epoch = 0; step < config.steps(); epoch++) {
            shuffle.shuffle(order);
            long start = System.nanoTime();
            double lossSum = 0;
            long correct = 0, seen = 0;
            for (int b = 0; b < batches && step < config.steps(); b++, step++) {
                int from = b * bs, count = Math.min(bs, used - from);
                Tensor x = batch.fill(train, order, from, count);
                if (jitter != null) jitter.apply(x, count, drawn);
                int[] labels = batch.labels();
                student.zeroGrad();
                for (FeatureHint h : hints) for (Parameter p : h.parameters()) p.grad().zero();
                // the student, keeping the activations the hints read
                Tensor s = x;
                for (int i = 0; i < layers.size(); i++) s = studentOut[i] = layers.get(i).forward(s, true);
                Tensor[] teacherOut = null;
                if (needTeacher) {
                    if (cache != null) {
                        for (int i = 0; i < count; i++) {
                            int row = jitter == null ? order[from + i] : drawn[i] * n + order[from + i];
                            System.arraycopy(cache, row * classes, teacherBatch, i * classes, classes);
                        }
                    } else if (hints.isEmpty()) {
                        System.arraycopy(teacher.predict(x).data(), 0, teacherBatch, 0, count * classes);
                    } else {
                        teacherOut = teacherForward((Sequential) teacher, x);
                        System.arraycopy(teacherOut[teacherOut.length - 1].data(), 0, teacherBatch, 0, count * classes);
                    }
                }
                float l = loss.forward(s, teacherBatch, 0, labels);
                Tensor[] hintGrads = new Tensor[layers.size()];
                for (FeatureHint h : hints) {
                    l += h.forward(studentOut[h.studentLayer()], teacherOut[h.teacherLayer()]);
                    Tensor g = h.backward();
                    hintGrads[h.studentLayer()] = hintGrads[h.studentLayer()] == null ? g.copy() : add(hintGrads[h.studentLayer()], g);
                }
                lossSum += (double) l * count;
                float[] z = s.data();
                for (int i = 0; i < count; i++) if (Evaluator.argmax(z, i * classes, classes) == labels[i]) correct++;
                seen += count;
                // backward, adding each hint's gradient where its activation was taken
                Tensor g = loss.backward();
                for (int i = layers.size() - 1; i >= 0 && g != null; i--) {
                    if (hintGrads[i] != null) g = add(g.copy(), hintGrads[i]);
                    g = layers.get(i).backward(g);
                }
                opt.step();
                listener.onBatch(epoch, b, batches);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Evaluation eval = test == null ? null : Evaluator.evaluate(student, test, 256);
            EpochStats stats = new EpochStats(epoch + 1, config.learningRate(), lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen),
                    eval == null ? Double.NaN : eval.meanLoss(), eval == null ? Double.NaN : eval.accuracy(), seconds);
            history.add(stats);
            listener.onEpoch(stats);
        }
        return history;
    }

    /** Optimizer steps in {@code epochs} epochs over {@code samples} samples (the last one-sample batch dropped). */
    public static long stepsFor(int epochs, int samples, int batchSize) {
        return (long) epochs * Trainer.batchesPerEpoch(samples, batchSize);
    }

    private static Tensor add(Tensor a, Tensor b) {
        float[] x = a.data(), y = b.data();
        for (int i = 0; i < x.length; i++) x[i] += y[i];
        return a;
    }

    /**
     * Builds the hints of {@code config} and drops them: a caller checks them this way before any
     * output, since a wrong layer index otherwise surfaces only when training starts.
     *
     * @throws IllegalArgumentException naming the hint's problem
     */
    public static void checkHints(Model teacher, Sequential student, DistillConfig config) {
        hints(teacher, student, config);
    }

    private static List<FeatureHint> hints(Model teacher, Sequential student, DistillConfig config) {
        List<FeatureHint> hints = new ArrayList<>();
        Rng rng = new Rng(config.seed() + 1);
        for (DistillConfig.Hint h : config.hints()) {
            if (!(teacher instanceof Sequential t)) throw new IllegalArgumentException("hints need an FP32 teacher (its intermediate layers)");
            if (h.teacherLayer() < 0 || h.teacherLayer() >= t.layers().size()) {
                throw new IllegalArgumentException("hint: the teacher has no layer " + h.teacherLayer() + " (it has " + t.layers().size() + ")");
            }
            if (h.studentLayer() < 0 || h.studentLayer() >= student.layers().size() - 1) {
                throw new IllegalArgumentException("hint: the student has no hidden layer " + h.studentLayer());
            }
            hints.add(new FeatureHint(h.teacherLayer(), t.layers().get(h.teacherLayer()).outputShape(), h.studentLayer(),
                    student.layers().get(h.studentLayer()).outputShape(), h.beta(), rng));
        }
        return hints;
    }

    private static Tensor[] teacherForward(Sequential teacher, Tensor x) {
        Tensor[] out = new Tensor[teacher.layers().size()];
        Tensor t = x;
        for (int i = 0; i < out.length; i++) t = out[i] = teacher.layers().get(i).forward(t, false);
        return out;
    }

    private static boolean fitsCache(long floats) {
        return floats <= Integer.MAX_VALUE && 4 * floats <= (long) (CACHE_SHARE_OF_HEAP * Runtime.getRuntime().maxMemory());
    }

    /**
     * The teacher's logits for every training sample, in dataset order; with {@code shifts}, for every
     * shift of every sample, shift by shift (row {@code shift * size + sample}).
     */
    static float[] teacherLogits(Model teacher, Dataset train, int classes, RandomShift shifts) {
        int n = train.size(), views = shifts == null ? 1 : shifts.shifts();
        long floats = (long) views * n * classes;
        if (!fitsCache(floats)) {
            throw new CacheTooLargeException(String.format(java.util.Locale.ROOT,
                    "caching the teacher's logits takes %,d bytes (%,d samples x %d classes), over the %,d allowed (a quarter of the heap); "
                            + "run without the cache or with a larger heap", 4 * floats, (long) views * n, classes,
                    (long) (CACHE_SHARE_OF_HEAP * Runtime.getRuntime().maxMemory())));
        }
        float[] cache = new float[Math.toIntExact(floats)];
        int chunk = 256;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Batch batch = new Batch(train, Math.min(chunk, n));
        for (int v = 0; v < views; v++) {
            for (int from = 0; from < n; from += chunk) {
                int count = Math.min(chunk, n - from);
                Tensor x = batch.fill(train, order, from, count);
                if (shifts != null) for (int i = 0; i < count; i++) shifts.translate(x, i, v);
                Tensor logits = teacher.predict(x);
                System.arraycopy(logits.data(), 0, cache, (v * n + from) * classes, count * classes);   // < floats: an int
            }
        }
        return cache;
    }
}
