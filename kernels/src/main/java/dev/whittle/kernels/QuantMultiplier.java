package dev.whittle.kernels;

/**
 * A positive real multiplier {@code M} held as an integer: {@code M ~= multiplier / 2^shift}, with
 * {@code multiplier} normalised into {@code [2^30, 2^31)} (a Q0.31 fraction in [0.5, 1)) so it
 * keeps 31 significant bits. This is how integer-only inference rescales an int32 accumulator,
 * whose real scale is {@code s_in * s_w}, to the output's scale {@code s_out}: {@code M = s_in *
 * s_w / s_out} (Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", section 2.2).
 *
 * <p>{@link #apply} rounds once, half towards positive infinity, as TensorFlow Lite does with
 * single rounding: {@code (acc * multiplier + 2^(shift-1)) >> shift} in 64-bit arithmetic. With
 * {@code |acc| <= 2^31} and {@code multiplier < 2^31} the product is below 2^62 and the rounding
 * term below 2^61, so nothing overflows. Multipliers below 2^-32 lose precision (the shift is
 * capped at 62); below 2^-63 they round to zero and every output becomes the output zero point.
 *
 * @param multiplier the integer mantissa, 0 or in {@code [2^30, 2^31)} (smaller when shift is 62)
 * @param shift      the right shift, in {@code [1, 62]}
 */
public record QuantMultiplier(int multiplier, int shift) {

    /** The largest shift: keeps {@code acc * multiplier + 2^(shift-1)} inside a long. */
    static final int MAX_SHIFT = 62;

    public QuantMultiplier {
        if (multiplier < 0) throw new IllegalArgumentException("multiplier must not be negative, got " + multiplier);
        if (shift < 1 || shift > MAX_SHIFT) {
            throw new IllegalArgumentException("shift must be in [1, " + MAX_SHIFT + "], got " + shift);
        }
    }

    /**
     * The nearest representation of {@code real}, which must be positive, finite and below 2^30.
     */
    public static QuantMultiplier of(double real) {
        if (!(real > 0) || Double.isInfinite(real)) {
            throw new IllegalArgumentException("a requantization multiplier must be positive and finite, got " + real);
        }
        if (real >= 0x1p30) throw new IllegalArgumentException("requantization multiplier " + real + " is too large (>= 2^30)");
        // real = f * 2^e with f in [1, 2): scaling by 2^(30 - e) lands in [2^30, 2^31)
        int shift = Math.min(MAX_SHIFT, 30 - Math.getExponent(real));
        long m = Math.round(Math.scalb(real, shift));
        if (m == 1L << 31) { // rounded up out of the range: halve the mantissa, shift one less
            m >>= 1;
            shift--;
        }
        return new QuantMultiplier((int) m, shift);
    }

    /** {@code round(acc * M)} as defined above. */
    public long apply(int acc) {
        return ((long) acc * multiplier + (1L << (shift - 1))) >> shift;
    }

    /** The real value represented. */
    public double value() {
        return Math.scalb((double) multiplier, -shift);
    }
}
