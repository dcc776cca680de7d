package dev.whittle.compress.quantize;

import static dev.whittle.compress.quantize.ObserverData.bottom;
import static dev.whittle.compress.quantize.ObserverData.gaussian;
import static dev.whittle.compress.quantize.ObserverData.observe;
import static dev.whittle.compress.quantize.ObserverData.quantizationError;
import static dev.whittle.compress.quantize.ObserverData.top;
import static dev.whittle.compress.quantize.ObserverData.uniform;
import static dev.whittle.compress.quantize.ObserverData.withOutliers;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import org.junit.jupiter.api.Test;

class MseObserverTest {

    @Test
    void rareFarOutliersGetANarrowerRangeWithLessError() {
        // N(0, 1) with five values at 50σ: keeping them costs rounding error on everything else
        float[] x = withOutliers(gaussian(100_000, 11), 50f, -50f, 50f, -50f, 50f);
        for (boolean symmetric : new boolean[] {false, true}) {
            QuantParams mse = observe(new MseObserver(), x, 1000).int8(symmetric);
            QuantParams minMax = observe(new MinMaxObserver(), x, 1000).int8(symmetric);
            assertTrue(top(mse) < top(minMax) && bottom(mse) > bottom(minMax),
                    symmetric + ": mse [" + bottom(mse) + ", " + top(mse) + "], min-max [" + bottom(minMax) + ", " + top(minMax) + "]");
            double e = quantizationError(x, mse), eMinMax = quantizationError(x, minMax);
            assertTrue(e < 0.95 * eMinMax, symmetric + ": error " + e + " against min-max " + eMinMax);
        }
    }

    @Test
    void theSymmetricRangeIsAsGoodAsTheBestOfAFineSweepOfTheRealError() {
        float[] x = gaussian(20_000, 12);
        double e = quantizationError(x, observe(new MseObserver(), x, 1000).int8(true));
        double amax = 0;
        for (float v : x) amax = Math.max(amax, Math.abs(v));
        double best = Double.POSITIVE_INFINITY;
        for (int k = 1; k <= 300; k++) {
            float a = (float) (amax * k / 300);
            best = Math.min(best, quantizationError(x, QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0)));
        }
        assertTrue(e < 1.02 * best, "mse observer " + e + ", best of the sweep " + best);
    }

    @Test
    void uniformDataKeepsAboutTheWholeRange() {
        float[] x = uniform(50_000, -1f, 3f, 13);
        QuantParams p = observe(new MseObserver(), x, 1000).int8(false);
        assertTrue(top(p) > 2.97 && bottom(p) < -0.97, "[" + bottom(p) + ", " + top(p) + "]");
        double e = quantizationError(x, p), eMinMax = quantizationError(x, observe(new MinMaxObserver(), x, 1000).int8(false));
        assertTrue(e < 1.01 * eMinMax, e + " against min-max " + eMinMax);
    }

    @Test
    void postReluDataKeepsZeroExactAndBeatsMinMax() {
        float[] x = gaussian(50_000, 14);
        for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, x[i]);
        QuantParams p = observe(new MseObserver(), x, 1000).int8(false);
        QuantParams minMax = observe(new MinMaxObserver(), x, 1000).int8(false);
        assertTrue(p.zeroPoints()[0] == -128, "zero point " + p.zeroPoints()[0]);
        assertTrue(quantizationError(x, p) <= quantizationError(x, minMax));
    }
}
