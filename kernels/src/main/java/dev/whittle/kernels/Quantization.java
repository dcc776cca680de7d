package dev.whittle.kernels;

/**
 * Affine quantization, {@code real = scale * (q - zeroPoint)}: the scalar primitives (round half
 * to even, saturate), the checks every quantized tensor's parameters pass, min-max parameter
 * choice, and quantize/dequantize of whole tensors per tensor, per output channel or per group
 * along K. The integer kernels in use are chosen once by {@link Kernels}.
 */
public final class Quantization {

    private static final QuantKernels QUANT = Kernels.quant();

    private Quantization() {}

    // ---- the scalar primitives ------------------------------------------------------------------

    /** {@code v} rounded to the nearest integer, ties to even ({@link Math#rint}); NaN gives 0, and
     *  values beyond the int range saturate (Java's float to int conversion). */
    public static int rint(float v) {
        return (int) Math.rint(v);
    }

    /** {@code saturate(rint(x / scale) + zeroPoint)}. */
    public static int quantize(float x, float scale, int zeroPoint, QuantRange range) {
        return range.saturate((long) rint(x / scale) + zeroPoint);
    }

    /** {@code (q - zeroPoint) * scale}. */
    public static float dequantize(int q, float scale, int zeroPoint) {
        return (q - zeroPoint) * scale;
    }

    /** The value a byte holds in {@code range}: unsigned for UINT8, two's complement otherwise. */
    public static int load(byte b, QuantRange range) {
        return range == QuantRange.UINT8 ? b & 0xFF : b;
    }

    /** {@code v} rounded up to a multiple of {@code m}. */
    public static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    // ---- checks ---------------------------------------------------------------------------------

    /** Rejects a scale that is zero, negative, NaN or infinite. */
    public static void checkScale(float scale, String what) {
        if (!(scale > 0f) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException(what + " = " + scale + ": a quantization scale must be positive and finite");
        }
    }

    /** Rejects a zero point outside {@code range}. */
    public static void checkZeroPoint(int zeroPoint, QuantRange range, String what) {
        if (!range.contains(zeroPoint)) {
            throw new IllegalArgumentException(what + " = " + zeroPoint + " is outside the " + range + " range ["
                    + range.min() + ", " + range.max() + "]");
        }
    }

    /** Rejects a group size that is not positive or does not divide the padded row length. */
    public static void checkGroupSize(int groupSize, int paddedCols) {
        if (groupSize < 1) throw new IllegalArgumentException("group size must be positive, got " + groupSize);
        if (paddedCols % groupSize != 0) {
            throw new IllegalArgumentException("group size " + groupSize + " does not divide the padded K " + paddedCols);
        }
    }

    // ---- choosing parameters (min-max) ----------------------------------------------------------

    /**
     * Asymmetric parameters covering {@code [min, max]} widened to include 0 (so 0 is exact, as
     * zero padding and ReLU need): {@code scale = (max - min) / (qmax - qmin)}, {@code zeroPoint =
     * qmin - rint(min / scale)}. An all-zero range gets scale 1.
     */
    public static QuantParams affine(QuantRange range, float min, float max) {
        if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
            throw new IllegalArgumentException("cannot quantize the range [" + min + ", " + max + "]");
        }
        float lo = Math.min(min, 0f), hi = Math.max(max, 0f);
        float scale = (hi - lo) / (range.max() - range.min());
        if (!(scale > 0f) || Float.isInfinite(scale)) scale = hi > lo ? Float.MIN_NORMAL : 1f;
        int zeroPoint = range.saturate((long) range.min() - rint(lo / scale));
        return QuantParams.perTensor(range, scale, zeroPoint);
    }

    /** The symmetric scale for values up to {@code absMax}: {@code absMax / qmax} (1 for 0). */
    public static float symmetricScale(float absMax, QuantRange range) {
        if (range == QuantRange.UINT8) throw new IllegalArgumentException("UINT8 has no symmetric quantization");
        if (!Float.isFinite(absMax) || absMax < 0f) throw new IllegalArgumentException("cannot quantize values up to " + absMax);
        float scale = absMax / range.max();
        return scale > 0f ? scale : (absMax > 0f ? Float.MIN_NORMAL : 1f);
    }

    /** Symmetric parameters, one scale per row of {@code w[rows x cols]} (min-max). */
    public static QuantParams symmetricPerChannel(float[] w, int off, int rows, int cols, QuantRange range) {
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) scales[r] = symmetricScale(QUANT.absMax(w, off + r * cols, cols), range);
        return QuantParams.perChannel(range, scales, new int[rows]);
    }

    /** Symmetric parameters, one scale per group of {@code groupSize} along each row (min-max). */
    public static QuantParams symmetricPerGroup(float[] w, int off, int rows, int cols, int groupSize, QuantRange range) {
        int groups = roundUp(cols, groupSize) / groupSize;
        float[] scales = new float[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int from = g * groupSize, len = Math.min(groupSize, cols - from);
                scales[r * groups + g] = symmetricScale(QUANT.absMax(w, off + r * cols + from, len), range);
            }
        }
        return QuantParams.perGroup(range, groupSize, scales, new int[rows * groups]);
    }

    // ---- whole tensors --------------------------------------------------------------------------

    /**
     * Quantizes {@code x[rows x cols]} into {@code q[rows x paddedCols]}, one value per byte; the
     * padding (per group only) gets the zero point, which dequantizes to 0.
     */
    public static void quantize(float[] x, int xOff, int rows, int cols, QuantParams p, byte[] q, int qOff) {
        int pc = p.paddedCols(cols);
        p.checkShape(rows, pc);
        float[] scales = p.scales();
        int[] zeros = p.zeroPoints();
        int run = runLength(p, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < pc; c += run) {
                int i = p.index(r, c, pc), len = Math.min(run, cols - c);
                if (len > 0) QUANT.quantize(x, xOff + r * cols + c, len, scales[i], zeros[i], p.range(), q, qOff + r * pc + c);
                for (int j = Math.max(len, 0); j < run; j++) q[qOff + r * pc + c + j] = (byte) zeros[i];
            }
        }
    }

    /** Dequantizes {@code q[rows x paddedCols]} into {@code x[rows x cols]} (padding dropped). */
    public static void dequantize(byte[] q, int qOff, int rows, int cols, QuantParams p, float[] x, int xOff) {
        int pc = p.paddedCols(cols);
        p.checkShape(rows, pc);
        float[] scales = p.scales();
        int[] zeros = p.zeroPoints();
        int run = runLength(p, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c += run) {
                int i = p.index(r, c, pc), len = Math.min(run, cols - c);
                QUANT.dequantize(q, qOff + r * pc + c, len, scales[i], zeros[i], p.range(), x, xOff + r * cols + c);
            }
        }
    }

    /** Elements of a row that share one (scale, zero point). */
    private static int runLength(QuantParams p, int cols) {
        return p.granularity() == QuantParams.Granularity.PER_GROUP ? p.groupSize() : cols;
    }
}
