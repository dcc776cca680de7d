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

    /** {@code max |x[i]|} over {@code n} values (0 for none); NaN if any value is NaN. */
    float absMax(float[] x, int xOff, int n);
}
