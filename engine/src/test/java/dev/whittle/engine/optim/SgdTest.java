package dev.whittle.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Sgd} against PyTorch's {@code torch.optim.SGD} update (dampening 0), worked by hand for
 * a scalar and recomputed in double from the documented formula for vectors.
 */
class SgdTest {

    /** A parameter holding {@code values}. */
    static Parameter param(String name, float... values) {
        return new Parameter(name, new Tensor(values.clone(), values.length));
    }

    /** Sets the gradient of f(w) = 1/2 sum a_i (w_i - c_i)^2, i.e. a_i (w_i - c_i). */
    static void quadraticGrad(Parameter p, float[] a, float[] c) {
        float[] w = p.value().data(), g = p.grad().data();
        for (int i = 0; i < w.length; i++) g[i] = a[i] * (w[i] - c[i]);
    }

    /** Three steps on f(w) = w^2 / 2 (gradient w) from w = 1, lr 0.1; returns w after each step. */
    private static float[] threeSteps(float momentum, boolean nesterov, float weightDecay) {
        Parameter p = param("w", 1f);
        Sgd sgd = new Sgd(List.of(p), 0.1f, momentum, nesterov, weightDecay);
        float[] after = new float[3];
        for (int t = 0; t < 3; t++) {
            p.grad().data()[0] = p.value().data()[0];
            sgd.step();
            after[t] = p.value().data()[0];
        }
        return after;
    }

    @Test
    void plainStepIsLearningRateTimesGradient() {
        // w <- w - 0.1 w  =>  0.9, 0.81, 0.729
        float[] w = threeSteps(0f, false, 0f);
        assertEquals(0.9f, w[0], 1e-7f);
        assertEquals(0.81f, w[1], 1e-7f);
        assertEquals(0.729f, w[2], 1e-7f);
    }

    @Test
    void momentumMatchesHandComputation() {
        // buf = 0.9 buf + g (the first buf is g itself), w -= 0.1 buf:
        // t1: buf 1,    w 0.9
        // t2: g 0.9,  buf 0.9 + 0.9 = 1.8,      w 0.9 - 0.18 = 0.72
        // t3: g 0.72, buf 1.62 + 0.72 = 2.34,   w 0.72 - 0.234 = 0.486
        float[] w = threeSteps(0.9f, false, 0f);
        assertEquals(0.9f, w[0], 1e-6f);
        assertEquals(0.72f, w[1], 1e-6f);
        assertEquals(0.486f, w[2], 1e-6f);
    }

    @Test
    void nesterovMatchesHandComputation() {
        // buf = 0.9 buf + g, w -= 0.1 (g + 0.9 buf):
        // t1: buf 1,                     d 1 + 0.9 = 1.9,               w 1 - 0.19 = 0.81
        // t2: g 0.81, buf 0.9 + 0.81 = 1.71,  d 0.81 + 1.539 = 2.349,    w 0.81 - 0.2349 = 0.5751
        // t3: g 0.5751, buf 1.539 + 0.5751 = 2.1141, d 0.5751 + 1.90269 = 2.47779, w 0.5751 - 0.247779 = 0.327321
        float[] w = threeSteps(0.9f, true, 0f);
        assertEquals(0.81f, w[0], 1e-6f);
        assertEquals(0.5751f, w[1], 1e-6f);
        assertEquals(0.327321f, w[2], 1e-6f);
    }

    @Test
    void weightDecayAddsL2TermToGradient() {
        // g + 0.1 w = 1.1 w, so w <- w (1 - 0.11): 0.89, 0.7921, 0.704969
        float[] w = threeSteps(0f, false, 0.1f);
        assertEquals(0.89f, w[0], 1e-6f);
        assertEquals(0.7921f, w[1], 1e-6f);
        assertEquals(0.704969f, w[2], 1e-6f);
    }

    @Test
    void weightDecayEntersTheMomentumBuffer() {
        // PyTorch adds wd*w before the buffer: d = 1.1 w; buf = 0.9 buf + d; w -= 0.1 buf
        // t1: d 1.1, buf 1.1, w 0.89
        // t2: d 0.979, buf 0.99 + 0.979 = 1.969, w 0.89 - 0.1969 = 0.6931
        float[] w = threeSteps(0.9f, false, 0.1f);
        assertEquals(0.89f, w[0], 1e-6f);
        assertEquals(0.6931f, w[1], 1e-6f);
        // t3: d 1.1 * 0.6931 = 0.76241, buf 1.7721 + 0.76241 = 2.53451, w 0.6931 - 0.253451 = 0.439649
        assertEquals(0.439649f, w[2], 1e-6f);
    }

    /** PyTorch's SGD pseudo-code in double, for several parameters and steps. */
    private static double[][] reference(double[][] w0, double[][] a, double[][] c, double lr, double mu,
                                        boolean nesterov, double wd, int steps) {
        double[][] w = new double[w0.length][];
        double[][] buf = new double[w0.length][];
        for (int p = 0; p < w0.length; p++) {
            w[p] = w0[p].clone();
            buf[p] = new double[w0[p].length];
        }
        for (int t = 1; t <= steps; t++) {
            for (int p = 0; p < w.length; p++) {
                for (int i = 0; i < w[p].length; i++) {
                    double g = a[p][i] * (w[p][i] - c[p][i]);
                    g += wd * w[p][i];
                    if (mu != 0) {
                        buf[p][i] = t == 1 ? g : mu * buf[p][i] + g;
                        g = nesterov ? g + mu * buf[p][i] : buf[p][i];
                    }
                    w[p][i] -= lr * g;
                }
            }
        }
        return w;
    }

    @Test
    void everyVariantMatchesTheDocumentedFormulaOnTwoParameters() {
        float[][] start = {{1.5f, -2f, 0.25f}, {3f, -0.5f}};
        float[][] a = {{1f, 4f, 0.5f}, {2f, 0.1f}};
        float[][] c = {{0f, 1f, -1f}, {0.5f, 2f}};
        record Variant(float mu, boolean nesterov, float wd) {}
        for (Variant v : List.of(new Variant(0f, false, 0f), new Variant(0.9f, false, 0f), new Variant(0.9f, true, 0f),
                new Variant(0.5f, false, 0.01f), new Variant(0.8f, true, 0.05f), new Variant(0f, false, 0.2f))) {
            Parameter p0 = param("a", start[0]), p1 = param("b", start[1]);
            Sgd sgd = new Sgd(List.of(p0, p1), 0.05f, v.mu, v.nesterov, v.wd);
            int steps = 5;
            for (int t = 0; t < steps; t++) {
                quadraticGrad(p0, a[0], c[0]);
                quadraticGrad(p1, a[1], c[1]);
                sgd.step();
            }
            double[][] want = reference(toDouble(start), toDouble(a), toDouble(c), 0.05, v.mu, v.nesterov, v.wd, steps);
            assertClose(want[0], p0.value().data(), v.toString());
            assertClose(want[1], p1.value().data(), v.toString());
        }
    }

    static double[][] toDouble(float[][] x) {
        double[][] d = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            d[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) d[i][j] = x[i][j];
        }
        return d;
    }

    static void assertClose(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), what + " element " + i);
        }
    }

    @Test
    void momentumMinimisesAnIllConditionedQuadratic() {
        float[] a = {1f, 10f, 0.2f}, c = {3f, -1f, 0.5f};
        Parameter p = param("w", 0f, 0f, 0f);
        Sgd sgd = new Sgd(List.of(p), 0.05f, 0.9f, false, 0f);
        for (int t = 0; t < 1500; t++) {
            quadraticGrad(p, a, c);
            sgd.step();
        }
        for (int i = 0; i < 3; i++) assertEquals(c[i], p.value().data()[i], 1e-4f, "w[" + i + "]");
    }

    @Test
    void learningRateCanBeChangedBetweenSteps() {
        Parameter p = param("w", 1f);
        Sgd sgd = new Sgd(List.of(p), 0.1f, 0f, false, 0f);
        assertEquals(0.1f, sgd.learningRate());
        sgd.setLearningRate(0.5f);
        assertEquals(0.5f, sgd.learningRate());
        p.grad().data()[0] = 1f;
        sgd.step();
        assertEquals(0.5f, p.value().data()[0], 0f);
    }

    @Test
    void eachParameterKeepsItsOwnMomentum() {
        // Two parameters with different gradients: if the buffers were shared or swapped, the
        // second step of one would carry the other's velocity.
        Parameter p = param("p", 0f), q = param("q", 0f);
        Sgd sgd = new Sgd(List.of(p, q), 1f, 0.5f, false, 0f);
        p.grad().data()[0] = 1f;
        q.grad().data()[0] = -3f;
        sgd.step();
        sgd.step();
        // buf after two steps: g + 0.5 g = 1.5 g; w = -(g + 1.5 g) = -2.5 g
        assertEquals(-2.5f, p.value().data()[0], 0f);
        assertEquals(7.5f, q.value().data()[0], 0f);
        assertEquals(List.of(p, q), sgd.parameters());
    }

    @Test
    void nesterovWithoutMomentumIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(param("w", 1f)), 0.1f, 0f, true, 0f));
    }
}
