package dev.whittle.compress.prune;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Evaluator;
import java.util.ArrayList;
import java.util.List;

/**
 * Accuracy against sparsity, one layer at a time: each prunable layer alone is magnitude-pruned to
 * each sparsity (no fine-tuning) and the model evaluated, so a user sees which layers tolerate what.
 */
public final class PruningSensitivity {

    /** One layer at one sparsity. */
    public record Point(int index, String layer, double sparsity, double accuracy) {}

    private PruningSensitivity() {}

    public static List<Point> scan(Sequential model, Dataset test, double[] sparsities) throws BadInputException {
        List<Point> points = new ArrayList<>();
        List<PrunableWeights> layers = PrunableWeights.of(model);
        for (int l = 0; l < layers.size(); l++) {
            for (double s : sparsities) {
                Sequential m = model.copy();
                MagnitudePruning.pruneSmallest(List.of(PrunableWeights.of(m).get(l)), s);
                points.add(new Point(layers.get(l).index(), layers.get(l).layer().spec(), s,
                        Evaluator.evaluate(m, test, 256).accuracy()));
            }
        }
        return points;
    }
}
