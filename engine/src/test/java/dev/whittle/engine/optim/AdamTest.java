package dev.whittle.engine.optim;

import static dev.whittle.engine.optim.SgdTest.assertClose;
import static dev.whittle.engine.optim.SgdTest.param;
import static dev.whittle.engine.optim.SgdTest.quadraticGrad;
import static dev.whittle.engine.optim.SgdTest.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whittle.engine.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Adam} against PyTorch's {@code torch.optim.Adam} (L2 weight decay added to the gradient)
 * and {@code torch.optim.AdamW} (decoupled: {@code w *= 1 - lr*wd} first), worked by hand where
 * the numbers are simple and recomputed in double from the documented algorithm otherwise.
 */
class AdamTest {

    @Test
    void firstStepMovesByTheLearningRateWhateverTheGradientScale() {
        // Bias correction makes m_hat = g and v_hat = g^2 at t = 1, so the step is lr * g / (|g| + eps).
        for (float g : new float[] {1e-3f, 1f, -7f, 1e3f}) {
            Parameter p = param("w", 1f);
            Adam adam = Adam.adam(List.of(p), 0.01f, 0f);
            p.grad().data()[0] = g;
            adam.step();
            assertEquals(1f - Math.signum(g) * 0.01f, p.value().data()[0], 1e-6f, "gradient " + g);
        }
    }

    @Test
    void constantGradientMovesByTheLearningRateEveryStep() {
        // With g constant, m_hat = g and v_hat = g^2 at every t: three steps of 0.1 from 1.
        Parameter p = param("w", 1f);
        Adam adam = Adam.adam(List.of(p), 0.1f, 0f);
        float[] want = {0.9f, 0.8f, 0.7f};
        for (int t = 0; t < 3; t++) {
            p.grad().data()[0] = 2f;
            adam.step();
            assertEquals(want[t], p.value().data()[0], 1e-6f, "step " + (t + 1));
        }
    }

    @Test
    void adamWDecaysWeightsDirectlyWithoutAnAdaptiveStep() {
        // Zero gradient: m = v = 0, so only w *= 1 - lr*wd = 0.99 acts: 0.99, 0.9801, 0.970299.
        Parameter p = param("w", 1f);
        Adam adamW = Adam.adamW(List.of(p), 0.1f, 0.1f);
        float[] want = {0.99f, 0.9801f, 0.970299f};
        for (int t = 0; t < 3; t++) {
            adamW.step();
            assertEquals(want[t], p.value().data()[0], 1e-6f, "step " + (t + 1));
        }
    }

    @Test
    void adamL2DecayGoesThroughTheAdaptiveStep() {
        // Zero gradient, wd 0.1: g = 0.1 w enters m and v.
        // t1: g 0.1, m_hat 0.1, v_hat 0.01, w = 1 - 0.1 * 0.1 / 0.1 = 0.9
        // t2: g 0.09, m = 0.009 + 0.009 = 0.018, m_hat = 0.018 / 0.19 = 0.0947368;
        //     v = 0.999e-5 + 0.0081e-3 = 1.809e-5, v_hat = 1.809e-5 / 0.001999 = 0.0090495;
        //     w = 0.9 - 0.1 * 0.0947368 / 0.0951289 = 0.8004122
        Parameter p = param("w", 1f);
        Adam adam = Adam.adam(List.of(p), 0.1f, 0.1f);
        adam.step();
        assertEquals(0.9f, p.value().data()[0], 1e-6f);
        adam.step();
        assertEquals(0.8004122f, p.value().data()[0], 2e-6f);
    }

    /** The algorithm box of PyTorch's Adam/AdamW documentation, in double. */
    private static double[][] reference(double[][] w0, double[][] a, double[][] c, double lr, double b1, double b2,
                                        double eps, double wd, boolean decoupled, int steps) {
        double[][] w = new double[w0.length][], m = new double[w0.length][], v = new double[w0.length][];
        for (int p = 0; p < w0.length; p++) {
            w[p] = w0[p].clone();
            m[p] = new double[w0[p].length];
            v[p] = new double[w0[p].length];
        }
        for (int t = 1; t <= steps; t++) {
            for (int p = 0; p < w.length; p++) {
                for (int i = 0; i < w[p].length; i++) {
                    double g = a[p][i] * (w[p][i] - c[p][i]);
                    if (decoupled) w[p][i] -= lr * wd * w[p][i];
                    else g += wd * w[p][i];
                    m[p][i] = b1 * m[p][i] + (1 - b1) * g;
                    v[p][i] = b2 * v[p][i] + (1 - b2) * g * g;
                    double mHat = m[p][i] / (1 - Math.pow(b1, t));
                    double vHat = v[p][i] / (1 - Math.pow(b2, t));
                    w[p][i] -= lr * mHat / (Math.sqrt(vHat) + eps);
                }
            }
        }
        return w;
    }

    @Test
    void everyVariantMatchesTheDocumentedAlgorithmOnTwoParameters() {
        float[][] start = {{1.5f, -2f, 0.25f}, {3f, -0.5f}};
        float[][] a = {{1f, 4f, 0.5f}, {2f, 0.1f}};
        float[][] c = {{0f, 1f, -1f}, {0.5f, 2f}};
        record Variant(float b1, float b2, float eps, float wd, boolean decoupled) {}
        for (Variant v : List.of(new Variant(0.9f, 0.999f, 1e-8f, 0f, false), new Variant(0.9f, 0.999f, 1e-8f, 0.05f, false),
                new Variant(0.9f, 0.999f, 1e-8f, 0.05f, true), new Variant(0.5f, 0.9f, 1e-3f, 0f, false),
                new Variant(0.8f, 0.99f, 1e-6f, 0.3f, true))) {
            Parameter p0 = param("a", start[0]), p1 = param("b", start[1]);
            Adam adam = new Adam(List.of(p0, p1), 0.02f, v.b1, v.b2, v.eps, v.wd, v.decoupled);
            int steps = 6;
            for (int t = 0; t < steps; t++) {
                quadraticGrad(p0, a[0], c[0]);
                quadraticGrad(p1, a[1], c[1]);
                adam.step();
            }
            double[][] want = reference(toDouble(start), toDouble(a), toDouble(c), 0.02, v.b1, v.b2, v.eps, v.wd,
                    v.decoupled, steps);
            assertClose(want[0], p0.value().data(), v.toString());
            assertClose(want[1], p1.value().data(), v.toString());
        }
    }

    @Test
    void factoriesUsePyTorchDefaults() {
        // Adam.adam / adamW must equal the explicit constructor with betas (0.9, 0.999), eps 1e-8.
        float[] a = {1f, 3f}, c = {2f, -1f};
        Parameter viaFactory = param("w", 0f, 0f), explicit = param("w", 0f, 0f);
        Parameter viaFactoryW = param("w", 0f, 0f), explicitW = param("w", 0f, 0f);
        Adam f = Adam.adam(List.of(viaFactory), 0.01f, 0.1f), e = new Adam(List.of(explicit), 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, false);
        Adam fw = Adam.adamW(List.of(viaFactoryW), 0.01f, 0.1f), ew = new Adam(List.of(explicitW), 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true);
        for (int t = 0; t < 4; t++) {
            for (Parameter p : List.of(viaFactory, explicit, viaFactoryW, explicitW)) quadraticGrad(p, a, c);
            f.step();
            e.step();
            fw.step();
            ew.step();
        }
        assertEquals(true, viaFactory.value().bitEquals(explicit.value()));
        assertEquals(true, viaFactoryW.value().bitEquals(explicitW.value()));
        // and L2 versus decoupled decay really differ
        assertEquals(false, viaFactory.value().bitEquals(viaFactoryW.value()));
    }

    @Test
    void minimisesAQuadratic() {
        float[] a = {1f, 10f, 0.2f}, c = {3f, -1f, 0.5f};
        Parameter p = param("w", 0f, 0f, 0f);
        Adam adam = Adam.adam(List.of(p), 0.05f, 0f);
        for (int t = 0; t < 3000; t++) {
            if (t == 2000) adam.setLearningRate(0.002f);
            quadraticGrad(p, a, c);
            adam.step();
        }
        assertEquals(0.002f, adam.learningRate());
        for (int i = 0; i < 3; i++) assertEquals(c[i], p.value().data()[i], 1e-3f, "w[" + i + "]");
    }
}
