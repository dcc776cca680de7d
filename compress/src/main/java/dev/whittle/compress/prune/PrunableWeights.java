package dev.whittle.compress.prune;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * The weights pruning works on: every Linear's and Conv2d's weight (biases are never pruned, and
 * are not counted in the sparsity), as {@code [out, in*k*k]} rows.
 */
public record PrunableWeights(int index, Layer layer, Parameter weight) {

    /** The prunable weights of a model, in layer order. */
    public static List<PrunableWeights> of(Sequential model) {
        List<PrunableWeights> all = new ArrayList<>();
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            if (l instanceof Linear lin) all.add(new PrunableWeights(i, l, lin.weight()));
            else if (l instanceof Conv2d c) all.add(new PrunableWeights(i, l, c.weight()));
        }
        return all;
    }

    /** Output channels (neurons, filters). */
    public int rows() {
        return weight.value().dim(0);
    }

    /** Inputs per output channel. */
    public int cols() {
        return weight.value().size() / rows();
    }

    /** The fraction of this weight's entries that are 0. */
    public double sparsity() {
        long zeros = 0;
        for (float v : weight.value().data()) if (v == 0f) zeros++;
        return (double) zeros / weight.value().size();
    }

    /** DESIGN.md's sparsity of a model: zero weights over all prunable weights (biases excluded). */
    public static double sparsity(Sequential model) {
        long zeros = 0, total = 0;
        for (PrunableWeights w : of(model)) {
            for (float v : w.weight.value().data()) if (v == 0f) zeros++;
            total += w.weight.value().size();
        }
        return total == 0 ? 0 : (double) zeros / total;
    }
}
