package dev.whittle.kernels;

/**
 * The integer range a quantized tensor's values live in. Saturation clamps to it.
 *
 * <p>{@link #INT8_NARROW} is the range of int8 weights (as in TensorFlow Lite's int8 spec): it
 * drops -128 so the range is symmetric about zero, and so that the sum of two products
 * {@code w*x} with {@code |w| <= 127}, {@code -128 <= x <= 127} fits in a signed 16-bit lane
 * (at most 2 * 127 * 128 = 32512), which the INT8 kernels rely on.
 */
public enum QuantRange {
    INT8(-128, 127),
    INT8_NARROW(-127, 127),
    UINT8(0, 255),
    INT4(-8, 7);

    private final int min;
    private final int max;

    QuantRange(int min, int max) {
        this.min = min;
        this.max = max;
    }

    /** The smallest representable value. */
    public int min() {
        return min;
    }

    /** The largest representable value. */
    public int max() {
        return max;
    }

    /** Bits per value. */
    public int bits() {
        return this == INT4 ? 4 : 8;
    }

    /** Whether {@code v} lies in this range. */
    public boolean contains(long v) {
        return v >= min && v <= max;
    }

    /** {@code v} clamped to this range. */
    public int saturate(long v) {
        return (int) Math.max(min, Math.min(max, v));
    }
}
