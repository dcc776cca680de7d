package dev.whittle.compress.prune;

/**
 * What {@link Pruning} does.
 *
 * @param method         what is removed: single weights by magnitude, N:M groups, whole units
 *                       (by L1, L2 or batch-norm gamma), or one whole layer
 * @param sparsity       the fraction of prunable weights (magnitude) or of units (structured) to remove
 * @param scope          one magnitude threshold per layer or for the whole model
 * @param schedule       one shot, iterative (prune and fine-tune {@code rounds} times), or gradual
 *                       (Zhu and Gupta 2017, during fine-tuning)
 * @param rounds         rounds of an iterative schedule
 * @param finetuneEpochs epochs of fine-tuning in all (spread over the rounds)
 * @param learningRate   fine-tuning learning rate (Adam)
 * @param rewind         iterative only: after each pruning, reset the surviving weights to their
 *                       values before fine-tuning began (lottery-ticket rewinding, Frankle et al. 2019)
 * @param layer          the layer index to remove ({@link Method#REMOVE_LAYER})
 * @param seed           shuffling (and any fresh initialisation)
 */
public record PruneConfig(Method method, double sparsity, MagnitudePruning.Scope scope, Schedule schedule, int rounds,
                          int finetuneEpochs, float learningRate, boolean rewind, int layer, long seed) {

    public enum Method { MAGNITUDE, NM_2_4, L1_STRUCTURED, L2_STRUCTURED, BN_GAMMA, REMOVE_LAYER }

    public enum Schedule { ONESHOT, ITERATIVE, GRADUAL }

    public PruneConfig {
        if (method != Method.REMOVE_LAYER && method != Method.NM_2_4 && !(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        }
        if (finetuneEpochs < 0) throw new IllegalArgumentException("fine-tuning epochs must be >= 0, got " + finetuneEpochs);
        if (schedule == Schedule.ITERATIVE && rounds < 1) throw new IllegalArgumentException("an iterative schedule needs rounds >= 1, got " + rounds);
        if (schedule == Schedule.GRADUAL && finetuneEpochs < 1) throw new IllegalArgumentException("gradual pruning happens during fine-tuning: it needs at least 1 epoch");
        if (schedule != Schedule.ONESHOT && method != Method.MAGNITUDE) {
            throw new IllegalArgumentException("iterative and gradual schedules apply to magnitude pruning");
        }
        if (rewind && schedule != Schedule.ITERATIVE) throw new IllegalArgumentException("rewinding applies to the iterative schedule");
    }
}
