package dev.whittle.engine.optim;

import dev.whittle.engine.Parameter;
import java.util.List;

/** Updates parameters from their accumulated gradients, one step per mini-batch. */
public interface Optimizer {

    /** Applies one update to every parameter from its current gradient. */
    void step();

    float learningRate();

    void setLearningRate(float lr);

    /** The parameters this optimizer updates. */
    List<Parameter> parameters();
}
