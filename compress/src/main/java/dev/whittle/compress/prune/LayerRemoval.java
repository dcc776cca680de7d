package dev.whittle.compress.prune;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.nn.Activation;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Dropout;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes a whole hidden layer: a Linear (or a Conv2d that keeps its shape) together with the
 * activation, batch norm and dropout that follow it. The layers before keep their weights; the next
 * weighted layer keeps its weights when its input size is unchanged and is freshly initialised
 * otherwise (it now reads different features), so the model must be fine-tuned to recover.
 */
public final class LayerRemoval {

    private LayerRemoval() {}

    /** The model without layer {@code index} (and what follows it up to the next weighted layer). */
    public static Sequential remove(Sequential model, int index, long seed) throws BadInputException {
        List<Layer> layers = model.layers();
        List<PrunableWeights> weighted = PrunableWeights.of(model);
        if (index < 0 || index >= layers.size() || !(layers.get(index) instanceof Linear || layers.get(index) instanceof Conv2d)) {
            throw new BadInputException("layer " + index + " is not a Linear or Conv2d");
        }
        if (weighted.getLast().index() == index) throw new BadInputException("layer " + index + " is the output layer; it cannot be removed");
        int end = index + 1;
        while (end < layers.size() && (layers.get(end) instanceof Activation || layers.get(end) instanceof BatchNorm
                || layers.get(end) instanceof Dropout)) end++;
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) if (i < index || i >= end) tokens.add(layers.get(i).spec());
        Sequential small;
        try {
            small = ArchSpec.build(String.join(" ", tokens), model.inputShape(), seed);
        } catch (BadInputException e) {
            throw new BadInputException("removing layer " + index + " (" + layers.get(index).spec() + ") leaves no valid model: " + e.getMessage());
        }
        for (int i = 0, j = 0; i < layers.size(); i++) {
            if (i >= index && i < end) continue;
            Layer from = layers.get(i), to = small.layers().get(j++);
            if (sameShapes(from, to)) Sequential.copyState(from, to);
        }
        return small;
    }

    private static boolean sameShapes(Layer a, Layer b) {
        List<Parameter> x = a.parameters(), y = b.parameters();
        if (x.size() != y.size()) return false;
        for (int k = 0; k < x.size(); k++) if (!java.util.Arrays.equals(x.get(k).value().shape(), y.get(k).value().shape())) return false;
        return true;
    }
}
