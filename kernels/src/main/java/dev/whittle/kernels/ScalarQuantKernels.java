package dev.whittle.kernels;

/** The scalar twin of {@link QuantKernels}: the formulas, one element at a time. */
public final class ScalarQuantKernels implements QuantKernels {

    @Override
    public void quantize(float[] x, int xOff, int n, float scale, int zeroPoint, QuantRange range, byte[] q, int qOff) {
        for (int i = 0; i < n; i++) q[qOff + i] = (byte) Quantization.quantize(x[xOff + i], scale, zeroPoint, range);
    }

    @Override
    public void dequantize(byte[] q, int qOff, int n, float scale, int zeroPoint, QuantRange range, float[] x, int xOff) {
        for (int i = 0; i < n; i++) x[xOff + i] = Quantization.dequantize(Quantization.load(q[qOff + i], range), scale, zeroPoint);
    }

    @Override
    public void requantize(float[] sums, int sOff, int n, float multiplier, float bias, boolean relu, float scale, int zeroPoint,
                           QuantRange range, byte[] q, int qOff) {
        for (int i = 0; i < n; i++) {
            float r = Math.fma(multiplier, sums[sOff + i], bias);
            if (relu) r = Math.max(r, 0f);
            q[qOff + i] = (byte) Quantization.quantize(r, scale, zeroPoint, range);
        }
    }

    @Override
    public float absMax(float[] x, int xOff, int n) {
        float m = 0f;
        for (int i = 0; i < n; i++) m = Math.max(m, Math.abs(x[xOff + i]));
        return m;
    }
}
