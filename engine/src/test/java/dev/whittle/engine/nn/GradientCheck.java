package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.fail;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;

/**
 * Finite-difference check of a layer's backward pass. The scalar loss is {@code sum(r * f(x))}
 * for a fixed random {@code r}, so {@code backward(r)} must equal its gradient; each input and
 * parameter element is compared with a central difference.
 */
final class GradientCheck {

    private GradientCheck() {}

    /**
     * Checks {@code dLoss/dInput} and {@code dLoss/dParam} for a batch {@code x}. {@code training}
     * is passed to every forward call (batch norm in training mode is checked this way).
     */
    static void check(Layer layer, Tensor x, boolean training, long seed) {
        Rng rng = new Rng(seed);
        Tensor y = layer.forward(x, training);
        float[] r = new float[y.size()];
        for (int i = 0; i < r.length; i++) r[i] = rng.uniform(-1f, 1f);
        for (Parameter p : layer.parameters()) p.grad().zero();
        Tensor gx = layer.backward(new Tensor(r.clone(), y.shape())).copy();
        compare(layer, x, training, r, x.data(), gx.data(), "input");
        for (Parameter p : layer.parameters()) {
            compare(layer, x, training, r, p.value().data(), p.grad().data().clone(), p.localName());
        }
    }

    private static void compare(Layer layer, Tensor x, boolean training, float[] r, float[] values, float[] analytic, String what) {
        double eps = 1e-2;
        // check up to 60 elements spread over the tensor: enough to catch an indexing error
        int step = Math.max(1, values.length / 60);
        for (int i = 0; i < values.length; i += step) {
            float saved = values[i];
            values[i] = (float) (saved + eps);
            double plus = loss(layer, x, training, r);
            values[i] = (float) (saved - eps);
            double minus = loss(layer, x, training, r);
            values[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            double err = Math.abs(numeric - analytic[i]);
            if (err > 2e-2 * Math.max(1.0, Math.abs(numeric))) {
                fail(layer.spec() + ": d/d" + what + "[" + i + "] analytic " + analytic[i] + " vs numeric " + numeric);
            }
        }
    }

    private static double loss(Layer layer, Tensor x, boolean training, float[] r) {
        Tensor y = layer.forward(x, training);
        double s = 0;
        float[] yd = y.data();
        for (int i = 0; i < yd.length; i++) s += (double) r[i] * yd[i];
        return s;
    }

    /** A random tensor of {@code shape}, entries in [-1, 1). */
    static Tensor random(long seed, int... shape) {
        Rng rng = new Rng(seed);
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = rng.uniform(-1f, 1f);
        return t;
    }
}
