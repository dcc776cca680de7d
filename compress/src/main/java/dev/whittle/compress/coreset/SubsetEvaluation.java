package dev.whittle.compress.coreset;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Evaluator;

/**
 * The evaluation protocol of the dataset-distillation literature: train several fresh models
 * (seeds 0..K-1) on the small set for a fixed number of steps and report the test accuracy's
 * mean and standard deviation, since one run on ten images says little.
 */
public final class SubsetEvaluation {

    /** Test accuracies of the runs, with their mean and (population) standard deviation. */
    public record Result(double[] accuracies, double mean, double std) {

        static Result of(double[] acc) {
            double m = 0;
            for (double a : acc) m += a;
            m /= acc.length;
            double v = 0;
            for (double a : acc) v += (a - m) * (a - m);
            return new Result(acc.clone(), m, Math.sqrt(v / acc.length));
        }
    }

    /** Called after each run with its index and accuracy (for progress lines). */
    public interface Listener {
        void onRun(int run, double accuracy);
    }

    private SubsetEvaluation() {}

    /** Trains {@code runs} {@code arch} models, seeds 0..runs-1, for {@code steps} Adam steps each on {@code subset}. */
    public static Result evaluate(String arch, Dataset subset, Dataset test, int runs, long steps, float lr, Listener listener)
            throws BadInputException {
        return evaluate(arch, run -> subset, test, runs, steps, lr, listener);
    }

    /** Supplies the training set of run {@code run} (a random baseline draws a new subset per run). */
    public interface Subsets {
        Dataset forRun(int run);
    }

    /** As above, with a training set per run. */
    public static Result evaluate(String arch, Subsets subsets, Dataset test, int runs, long steps, float lr, Listener listener)
            throws BadInputException {
        if (runs < 1) throw new IllegalArgumentException("runs must be >= 1, got " + runs);
        double[] acc = new double[runs];
        for (int r = 0; r < runs; r++) {
            Dataset train = subsets.forRun(r);
            Sequential model = ArchSpec.build(arch, train.sampleShape(), r);
            StepTraining.fit(model, train, steps, lr, r);
            acc[r] = Evaluator.evaluate(model, test, 256).accuracy();
            listener.onRun(r, acc[r]);
        }
        return Result.of(acc);
    }
}
