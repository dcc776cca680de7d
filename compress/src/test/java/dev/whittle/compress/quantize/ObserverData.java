package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.Quantization;
import java.util.Random;

/** Calibration data for the observer tests, and the error a choice of parameters really gives. */
final class ObserverData {

    private ObserverData() {}

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static float[] uniform(int n, float lo, float hi, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * r.nextFloat();
        return x;
    }

    /** {@code x} with {@code values} written over evenly spaced places. */
    static float[] withOutliers(float[] x, float... values) {
        float[] y = x.clone();
        for (int k = 0; k < values.length; k++) y[(int) ((k + 0.5) * y.length / values.length)] = values[k];
        return y;
    }

    /** Shows {@code x} to {@code o} in batches of {@code batch}. */
    static <O extends Observer> O observe(O o, float[] x, int batch) {
        for (int off = 0; off < x.length; off += batch) o.observe(x, off, Math.min(batch, x.length - off));
        return o;
    }

    /** Mean squared error of quantize then dequantize of {@code x} with per-tensor {@code p}. */
    static double quantizationError(float[] x, QuantParams p) {
        float scale = p.scales()[0];
        int zeroPoint = p.zeroPoints()[0];
        double sum = 0;
        for (float v : x) {
            float back = Quantization.dequantize(Quantization.quantize(v, scale, zeroPoint, p.range()), scale, zeroPoint);
            sum += (back - (double) v) * (back - (double) v);
        }
        return sum / x.length;
    }

    /** The largest value {@code p} represents: {@code (127 - z) s}. */
    static double top(QuantParams p) {
        return (127 - p.zeroPoints()[0]) * (double) p.scales()[0];
    }

    /** The smallest value {@code p} represents: {@code (-128 - z) s}. */
    static double bottom(QuantParams p) {
        return (-128 - p.zeroPoints()[0]) * (double) p.scales()[0];
    }
}
