package dev.whittle.compress.prune;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Prunes a trained model and fine-tunes it, as a {@link PruneConfig} says. The input model is never
 * changed: pruning works on a copy (or, for structured methods, builds a smaller model).
 */
public final class Pruning {

    /** Checking a structural rebuild takes this many real training samples. */
    private static final int CHECK_SAMPLES = 64;
    /** Gradual pruning recomputes the mask about this many times... */
    private static final int GRADUAL_UPDATES = 40;
    /** ...over this fraction of the fine-tuning steps, the rest recovering at the final sparsity. */
    private static final double GRADUAL_RAMP = 0.75;

    private Pruning() {}

    /** The pruned model, its fine-tuning epochs, and for structured methods the units removed. */
    public record Result(Sequential model, List<EpochStats> epochs, StructuredPruning.Result structure) {}

    /** Prunes {@code model} as configured; {@code test} (may be null) is only evaluated per epoch for the listener. */
    public static Result run(Sequential model, Dataset train, Dataset test, PruneConfig config, TrainingListener listener)
            throws BadInputException {
        TrainConfig tuning = TrainConfig.defaults().withEpochs(config.finetuneEpochs()).withLearningRate(config.learningRate())
                .withSeed(config.seed());
        List<EpochStats> epochs = new ArrayList<>();
        switch (config.method()) {
            case L1_STRUCTURED, L2_STRUCTURED, BN_GAMMA -> {
                StructuredPruning.Criterion c = switch (config.method()) {
                    case L1_STRUCTURED -> StructuredPruning.Criterion.L1;
                    case L2_STRUCTURED -> StructuredPruning.Criterion.L2;
                    default -> StructuredPruning.Criterion.BN_GAMMA;
                };
                StructuredPruning.Result s = StructuredPruning.prune(model, config.sparsity(), c, checkBatch(train));
                epochs.addAll(Trainer.fit(s.model(), train, test, tuning, listener));
                return new Result(s.model(), epochs, s);
            }
            case REMOVE_LAYER -> {
                Sequential small = LayerRemoval.remove(model, config.layer(), config.seed());
                epochs.addAll(Trainer.fit(small, train, test, tuning, listener));
                return new Result(small, epochs, null);
            }
            case NM_2_4 -> {
                Sequential m = model.copy();
                MagnitudePruning.pruneNofM(m, 2, 4);
                epochs.addAll(Trainer.fit(m, train, test, tuning, listener));
                return new Result(m, epochs, null);
            }
            default -> {
                Sequential m = model.copy();
                switch (config.schedule()) {
                    case ONESHOT -> {
                        MagnitudePruning.prune(m, config.sparsity(), config.scope());
                        epochs.addAll(Trainer.fit(m, train, test, tuning, listener));
                    }
                    case ITERATIVE -> iterative(m, train, test, config, tuning, listener, epochs);
                    case GRADUAL -> gradual(m, train, test, config, tuning, listener, epochs);
                }
                return new Result(m, epochs, null);
            }
        }
    }

    /**
     * {@code rounds} rounds of prune-then-fine-tune, each removing the same fraction of the weights
     * still there ({@code s_k = 1 - (1 - s)^(k / rounds)}), the epochs shared out as evenly as they go.
     */
    private static void iterative(Sequential m, Dataset train, Dataset test, PruneConfig config, TrainConfig tuning,
                                  TrainingListener listener, List<EpochStats> epochs) {
        int rounds = config.rounds();
        List<float[]> start = new ArrayList<>();
        for (PrunableWeights w : PrunableWeights.of(m)) start.add(w.weight().value().data().clone());
        for (int k = 1; k <= rounds; k++) {
            double s = 1 - Math.pow(1 - config.sparsity(), (double) k / rounds);
            MagnitudePruning.prune(m, s, config.scope());
            if (config.rewind()) {
                List<PrunableWeights> ws = PrunableWeights.of(m);
                for (int i = 0; i < ws.size(); i++) {
                    Parameter p = ws.get(i).weight();
                    System.arraycopy(start.get(i), 0, p.value().data(), 0, start.get(i).length);
                    p.setMask(p.mask());   // the pruned entries back to 0
                }
            }
            int e = config.finetuneEpochs() * k / rounds - config.finetuneEpochs() * (k - 1) / rounds;
            if (e > 0) epochs.addAll(Trainer.fit(m, train, test, tuning.withEpochs(e).withSeed(config.seed() + k), listener));
        }
    }

    /** Fine-tunes while the mask follows {@link GradualSparsitySchedule} from 0 to the target sparsity. */
    private static void gradual(Sequential m, Dataset train, Dataset test, PruneConfig config, TrainConfig tuning,
                                TrainingListener listener, List<EpochStats> epochs) {
        long steps = (long) config.finetuneEpochs() * Trainer.batchesPerEpoch(train.size(), tuning.batchSize());
        long ramp = Math.max(1, (long) (GRADUAL_RAMP * steps));
        long interval = Math.max(1, ramp / GRADUAL_UPDATES);
        int prunings = (int) Math.max(1, ramp / interval);
        GradualSparsitySchedule schedule = new GradualSparsitySchedule(0, config.sparsity(), 0, prunings, interval);
        TrainingListener hook = new TrainingListener() {
            long step;

            @Override
            public void onBatch(int epoch, int batch, int batches) {
                step++;
                if (schedule.updatesAt(step)) MagnitudePruning.prune(m, schedule.sparsity(step), config.scope());
                listener.onBatch(epoch, batch, batches);
            }

            @Override
            public void onEpoch(EpochStats stats) {
                listener.onEpoch(stats);
            }
        };
        epochs.addAll(Trainer.fit(m, train, test, tuning, hook));
        // the ramp ends on a pruning step, so the target holds; this only guards against rounding
        if (PrunableWeights.sparsity(m) < config.sparsity() - 1e-3) MagnitudePruning.prune(m, config.sparsity(), config.scope());
    }

    /** Real inputs for the structural check: the first training samples. */
    private static Tensor checkBatch(Dataset train) {
        int n = Math.min(CHECK_SAMPLES, train.size());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return new Batch(train, n).fill(train, order, 0, n).copy();
    }
}
