package dev.whittle.compress.distill;

import java.util.List;

/**
 * How a student is distilled.
 *
 * @param temperature  T of the softened distributions
 * @param alpha        the weight of the soft (teacher) term; 1 - alpha weighs the labels
 * @param hints        FitNets hints, {@code teacherLayer:studentLayer:beta}
 * @param steps        optimizer steps in all (epochs * batches per epoch when given as epochs)
 * @param batchSize    samples per step
 * @param learningRate Adam's learning rate
 * @param seed         initialisation of adapters, shuffling, shifts
 * @param shift        shift each training image by up to this many pixels along each axis, anew at
 *                     every step, the teacher labelling the shifted image (0: no augmentation)
 * @param cacheTeacher compute the teacher's logits for the training set once rather than at every
 *                     step; with shifts, for every shift of every image, when that takes fewer
 *                     teacher passes than the steps would (a small training set) and fits in memory
 */
public record DistillConfig(float temperature, float alpha, List<Hint> hints, long steps, int batchSize, float learningRate,
                            long seed, int shift, boolean cacheTeacher) {

    /** A hint between the outputs of a teacher layer and a student layer, weighted by beta. */
    public record Hint(int teacherLayer, int studentLayer, float beta) {}

    public DistillConfig {
        if (!(temperature > 0f) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (!(alpha >= 0f && alpha <= 1f)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (shift < 0) throw new IllegalArgumentException("shift must be >= 0, got " + shift);
        if (!(learningRate > 0f) || Float.isInfinite(learningRate)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        hints = List.copyOf(hints);
    }
}
