package dev.whittle.compress.quantize;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * Clips the range at a percentile of the values seen, so that a few rare outliers do not stretch
 * the scale for everything else (percentile calibration, as in Wu et al., 2020, "Integer
 * Quantization for Deep Learning Inference", and NVIDIA's pytorch-quantization calibrator).
 * Asymmetric: {@code [P(100 - p), P(p)]}; symmetric: {@code [-a, a]} with {@code a} the p-th
 * percentile of {@code |x|}. The percentiles are read from streaming {@linkplain Histogram
 * histograms} of the values and of their magnitudes, interpolating within a bin, so they are
 * exact to within one bin width.
 */
public final class PercentileObserver implements Observer {

    private final double percentile;
    private final Histogram values = new Histogram(Histogram.DEFAULT_BINS);
    private final Histogram magnitudes = Histogram.ofMagnitudes(Histogram.DEFAULT_BINS);

    /** @param percentile in (50, 100], e.g. 99.9 or 99.99; 100 is the min-max range */
    public PercentileObserver(double percentile) {
        if (!(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
        }
        this.percentile = percentile;
    }

    public double percentile() {
        return percentile;
    }

    /** NaN and infinite values are a model error and are refused. */
    @Override
    public void observe(float[] x, int off, int n) {
        values.add(x, off, n);
        magnitudes.add(x, off, n);
    }

    @Override
    public QuantParams int8(boolean symmetric) {
        if (values.total() == 0) throw new IllegalStateException("nothing observed");
        double p = percentile / 100;
        if (symmetric) {
            float a = (float) magnitudes.quantile(p);
            return QuantParams.perTensor(QuantRange.INT8, Quantization.symmetricScale(a, QuantRange.INT8), 0);
        }
        return Quantization.affine(QuantRange.INT8, (float) values.quantile(1 - p), (float) values.quantile(p));
    }
}
