package dev.whittle.kernels;

/**
 * The element-wise quantization kernels: affine quantize and dequantize of a contiguous run of
 * values with one (scale, zero point). Per-channel and per-group quantization apply them run by
 * run (see {@link Quantization}).
 *
 * <p>{@code q = saturate(rint(x / scale) + zeroPoint)}, where {@code x / scale} is one float
 * division, {@code rint} rounds half to even ({@link Math#rint}) and a NaN rounds to 0 (Java's
 * float to int conversion). {@code x = (q - zeroPoint) * scale}, one float multiplication. Values
 * are stored one per byte: two's complement for INT8 and INT4, {@code (byte) q} for UINT8 (read
 * back as {@code q & 0xFF}).
 */
public interface QuantKernels {

    /** Quantizes {@code n} values of {@code x} into {@code q}. */
    void quantize(float[] x, int xOff, int n, float scale, int zeroPoint, QuantRange range, byte[] q, int qOff);

    /** Dequantizes {@code n} values of {@code q} (stored as {@code range} says) into {@code x}. */
    void dequantize(byte[] q, int qOff, int n, float scale, int zeroPoint, QuantRange range, float[] x, int xOff);

    /**
     * The epilogue of an integer product whose sums are held as floats: each {@code s} of {@code
     * n} values becomes {@code quantize(r, scale, zeroPoint)} with {@code r = fma(multiplier, s,
     * bias)}, and {@code r = max(r, 0)} first when {@code relu} — one pass for what would be a
     * multiply-add, a ReLU and a quantize.
     */
    void requantize(float[] sums, int sOff, int n, float multiplier, float bias, boolean relu, float scale, int zeroPoint,
                    QuantRange range, byte[] q, int qOff);

    /** {@code max |x[i]|} over {@code n} values (0 for none); NaN if any value is NaN. */
    float absMax(float[] x, int xOff, int n);
}
