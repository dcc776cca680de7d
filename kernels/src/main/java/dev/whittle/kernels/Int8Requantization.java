package dev.whittle.kernels;

/**
 * The epilogue of an INT8 layer in integer-only inference (Jacob et al. 2018): the int32
 * accumulator of output channel j, plus the int32 bias (whose scale is {@code s_in * s_w[j]} and
 * zero point 0), is rescaled by {@code M_j = s_in * s_w[j] / s_out} held as a
 * {@link QuantMultiplier}, shifted by the output zero point and clamped:
 *
 * <pre>
 *   y = clamp(zOut + ((acc + bias[j]) * m_j + 2^(shift_j - 1)) >> shift_j,  lo, 127)
 *   lo = relu ? max(zOut, -128) : -128         (ReLU is a clamp at the real value 0)
 * </pre>
 *
 * {@code acc + bias} is int32 arithmetic (it wraps like the accumulator itself would); the
 * product and shift are 64-bit, so rounding is exact and the same in every kernel.
 */
public final class Int8Requantization {

    final int[] multiplier;
    final int[] shift;
    final int[] bias;
    /** Per channel, for the vector epilogue: the rounding term {@code 2^(shift-1)} and the shift. */
    final long[] roundTerm;
    final long[] shift64;
    final int outputZeroPoint;
    final int min;
    final int max;
    /**
     * For the double-lane vector epilogue, computed once: {@code multiplier / 2^shift} per channel
     * when every shift lies in [31, {@link #DOUBLE_SHIFT}] (M below 1, so the output steps by at
     * most one per unit of accumulator), else null; and per channel the accumulators (bias
     * added) beyond which the output is clamped anyway.
     */
    final double[] real;
    final int[] accLo;
    final int[] accHi;
    /** {@code 2^-(largest shift + 1)}, for the double-lane epilogue ({@link Int8Epilogue}); 0 without {@link #real}. */
    final double nudge;
    /** The offsets of the last weights and input zero point this layer ran with (see {@link Int8Epilogue.Offsets}). */
    private volatile Int8Epilogue.Offsets offsets;
    /**
     * Channels whose shift is at most this can be requantized in double lanes: there
     * {@code acc * multiplier} has at most 53 bits wherever the result is not clamped.
     */
    static final int DOUBLE_SHIFT = 43;

    private Int8Requantization(int[] multiplier, int[] shift, int[] bias, int outputZeroPoint, boolean relu) {
        this.multiplier = multiplier;
        this.shift = shift;
        this.bias = bias;
        this.roundTerm = new long[shift.length];
        this.shift64 = new long[shift.length];
        for (int j = 0; j < shift.length; j++) {
            roundTerm[j] = 1L << (shift[j] - 1);
            shift64[j] = shift[j];
        }
        this.outputZeroPoint = outputZeroPoint;
        this.min = relu ? Math.max(outputZeroPoint, -128) : -128;
        this.max = 127;
        int n = shift.length;
        double[] r = new double[n];
        int[] lo = new int[n], hi = new int[n];
        long below0 = min - outputZeroPoint, above0 = max - outputZeroPoint;
        for (int j = 0; j < n; j++) {
            int sh = shift[j];
            long m = multiplier[j];
            if (sh < 31 || sh > DOUBLE_SHIFT || m == 0) {
                r = null;
                break;
            }
            r[j] = Math.scalb((double) m, -sh);
            // output(a) = floor((a * m + 2^(s-1)) / 2^s): the largest a giving the lowest output, the smallest giving the highest
            long below = Math.floorDiv(((below0 + 1) << sh) - (1L << (sh - 1)) - 1, m);
            long above = -Math.floorDiv(-((above0 << sh) - (1L << (sh - 1))), m);
            lo[j] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, below));
            hi[j] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, above));
        }
        this.real = r;
        this.accLo = r == null ? null : lo;
        this.accHi = r == null ? null : hi;
        int most = 0;
        for (int sh : shift) most = Math.max(most, sh);
        this.nudge = r == null ? 0 : Math.scalb(1.0, -(most + 1));
    }

    /**
     * The per-channel offsets of {@code w} with input zero point {@code zx} and this layer's
     * bias: the last ones if they are for the same weights and zero point (they are, call after
     * call of a layer), else worked out and kept. Threads racing here at most work them out twice.
     */
    Int8Epilogue.Offsets offsets(Int8Matrix w, int zx) {
        Int8Epilogue.Offsets o = offsets;
        if (o == null || !o.isFor(w, zx)) {
            o = Int8Epilogue.Offsets.of(w, zx, bias, this);
            offsets = o;
        }
        return o;
    }

    /**
     * The requantization of a layer with input scale {@code inputScale}, one weight scale per
     * output channel, and output {@code (outputScale, outputZeroPoint)}; {@code bias} may be null.
     */
    public static Int8Requantization of(float inputScale, float[] weightScales, float outputScale,
                                        int outputZeroPoint, int[] bias, boolean relu) {
        Quantization.checkScale(inputScale, "input scale");
        Quantization.checkScale(outputScale, "output scale");
        QuantMultiplier[] m = new QuantMultiplier[weightScales.length];
        for (int j = 0; j < m.length; j++) {
            Quantization.checkScale(weightScales[j], "weight scale[" + j + "]");
            m[j] = QuantMultiplier.of((double) inputScale * weightScales[j] / outputScale);
        }
        return of(m, bias, outputZeroPoint, relu);
    }

    /** The requantization with the multipliers given, one per output channel. */
    public static Int8Requantization of(QuantMultiplier[] multipliers, int[] bias, int outputZeroPoint, boolean relu) {
        int n = multipliers.length;
        if (n == 0) throw new IllegalArgumentException("no output channels");
        if (bias != null && bias.length != n) {
            throw new IllegalArgumentException(n + " output channels but " + bias.length + " biases");
        }
        Quantization.checkZeroPoint(outputZeroPoint, QuantRange.INT8, "output zero point");
        int[] mult = new int[n], sh = new int[n];
        for (int j = 0; j < n; j++) {
            mult[j] = multipliers[j].multiplier();
            sh[j] = multipliers[j].shift();
        }
        return new Int8Requantization(mult, sh, bias == null ? new int[n] : bias.clone(), outputZeroPoint, relu);
    }

    /** Output channels. */
    public int channels() {
        return multiplier.length;
    }

    /** The output of channel {@code j} for accumulator {@code acc} (bias not yet added). */
    public int requantize(int acc, int j) {
        long v = ((long) (acc + bias[j]) * multiplier[j] + (1L << (shift[j] - 1))) >> shift[j];
        return (int) Math.max(min, Math.min(max, v + outputZeroPoint));
    }
}
