package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Rng;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import org.junit.jupiter.api.Test;

/** GPTQ against round-to-nearest on small layers, and its linear algebra against the definitions. */
class GptqTest {

    static final int SAMPLES = 256;

    // ---- linear algebra ---------------------------------------------------------------------------

    @Test
    void inverseCholeskyFactorsTheInverse() {
        int n = 40;
        double[] a = randomSpd(n, 3);
        double[] u = Gptq.inverseCholesky(a, n);
        assertNotNull(u);
        for (int i = 0; i < n; i++) {
            assertTrue(u[i * n + i] > 0, "diagonal " + i);
            for (int j = 0; j < i; j++) assertEquals(0.0, u[i * n + j], "U[" + i + "][" + j + "] below the diagonal");
        }
        // (UᵀU) A = I
        double[] inv = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += u[k * n + i] * u[k * n + j];
                inv[i * n + j] = s;
            }
        }
        double worst = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
                worst = Math.max(worst, Math.abs(s - (i == j ? 1 : 0)));
            }
        }
        assertTrue(worst < 1e-9, "|A A⁻¹ - I|max = " + worst);
    }

    @Test
    void choleskyReproducesTheMatrixAndRejectsAnIndefiniteOne() {
        int n = 25;
        double[] a = randomSpd(n, 4);
        double[] l = a.clone();
        assertTrue(Gptq.choleskyLower(l, n));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
                assertEquals(a[i * n + j], s, 1e-10 * (1 + Math.abs(a[i * n + j])));
            }
        }
        double[] indefinite = a.clone();
        indefinite[7 * n + 7] = -1;
        assertNull(Gptq.inverseCholesky(indefinite, n));
    }

    // ---- GPTQ against round-to-nearest --------------------------------------------------------------

    @Test
    void beatsRoundToNearestOnCorrelatedInputs() {
        Layer l = correlatedLayer(32, 128, 5);
        double[] h = hessian(l.x, l.cols);
        for (Format f : new Format[] {Format.INT4_G32, Format.INT8_CHANNEL, Format.INT8_TENSOR}) {
            double rtn = outputError(l, f.rtn(l));
            double gptq = outputError(l, f.gptq(l, h));
            System.out.printf("correlated %s: GPTQ/RTN = %.4f%n", f, gptq / rtn);
        }
    }

    @Test
    void identityHessianIsRoundToNearest() {
        Layer l = correlatedLayer(16, 70, 6);
        double[] identity = new double[l.cols * l.cols];
        for (int i = 0; i < l.cols; i++) identity[i * l.cols + i] = 1;
        for (Format f : Format.values()) {
            QuantizedWeights want = f.rtn(l), got = f.gptq(l, identity);
            assertArrayEquals(want.scales(), got.scales(), f + " scales");
            assertArrayEquals(f.bits == 4 ? want.packedInt4() : want.int8Values(),
                    f.bits == 4 ? got.packedInt4() : got.int8Values(), f + " values");
        }
    }

    @Test
    void uncorrelatedInputs() {
        Layer l = iidLayer(32, 128, 7);
        double[] h = hessian(l.x, l.cols);
        for (Format f : new Format[] {Format.INT4_G32, Format.INT8_CHANNEL}) {
            double rtn = outputError(l, f.rtn(l));
            double gptq = outputError(l, f.gptq(l, h));
            System.out.printf("iid %s: GPTQ/RTN = %.4f%n", f, gptq / rtn);
        }
    }

    // ---- fixtures ---------------------------------------------------------------------------------

    enum Format {
        INT4_G32(4, Granularity.PER_GROUP, 32),
        INT4_G64(4, Granularity.PER_GROUP, 64),
        INT8_CHANNEL(8, Granularity.PER_CHANNEL, 0),
        INT8_TENSOR(8, Granularity.PER_TENSOR, 0);

        final int bits;
        final Granularity granularity;
        final int group;

        Format(int bits, Granularity granularity, int group) {
            this.bits = bits;
            this.granularity = granularity;
            this.group = group;
        }

        QuantizedWeights rtn(Layer l) {
            return QuantizedWeights.roundToNearest(l.w, l.rows, l.cols, bits, granularity, group);
        }

        QuantizedWeights gptq(Layer l, double[] h) {
            return Gptq.quantize(l.w, l.rows, l.cols, h, bits, granularity, group, Gptq.DEFAULT_DAMPENING, Gptq.DEFAULT_BLOCK_SIZE);
        }
    }

    /** Weights {@code w[rows x cols]} and calibration inputs {@code x[SAMPLES x cols]}. */
    record Layer(float[] w, int rows, int cols, float[] x) {}

    /** Inputs X = Z·M, Z and M standard normal: every input is a mix of the same latent factors. */
    static Layer correlatedLayer(int rows, int cols, long seed) {
        float[] z = HessianAccumulatorTest.random(SAMPLES * cols, seed);
        float[] m = HessianAccumulatorTest.random(cols * cols, seed + 100);
        float[] x = new float[SAMPLES * cols];
        for (int s = 0; s < SAMPLES; s++) {
            for (int j = 0; j < cols; j++) {
                double v = 0;
                for (int k = 0; k < cols; k++) v += z[s * cols + k] * m[k * cols + j];
                x[s * cols + j] = (float) (v / Math.sqrt(cols));
            }
        }
        return new Layer(weights(rows, cols, seed + 200), rows, cols, x);
    }

    static Layer iidLayer(int rows, int cols, long seed) {
        return new Layer(weights(rows, cols, seed + 200), rows, cols, HessianAccumulatorTest.random(SAMPLES * cols, seed));
    }

    static float[] weights(int rows, int cols, long seed) {
        float[] w = HessianAccumulatorTest.random(rows * cols, seed);
        for (int i = 0; i < w.length; i++) w[i] *= 0.05f;
        return w;
    }

    static double[] hessian(float[] x, int cols) {
        HessianAccumulator acc = new HessianAccumulator(cols);
        acc.addRows(x, 0, x.length / cols);
        return acc.hessian();
    }

    /** {@code ‖W X − Ŵ X‖²} over the layer's calibration inputs. */
    static double outputError(Layer l, QuantizedWeights q) {
        double sum = 0;
        for (int s = 0; s < SAMPLES; s++) {
            for (int r = 0; r < l.rows; r++) {
                double d = 0;
                for (int c = 0; c < l.cols; c++) d += ((double) l.w[r * l.cols + c] - q.dequantized(r, c)) * l.x[s * l.cols + c];
                sum += d * d;
            }
        }
        return sum;
    }

    static double[] randomSpd(int n, long seed) {
        float[] b = HessianAccumulatorTest.random(n * n, seed);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += (double) b[k * n + i] * b[k * n + j];
                a[i * n + j] = s + (i == j ? 0.1 : 0);
            }
        }
        return a;
    }
}
