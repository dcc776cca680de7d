package dev.whittle.engine.quant;

import dev.whittle.kernels.Int4Matrix;
import dev.whittle.kernels.Int8Matrix;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;

/**
 * The integer weights of one Linear or Conv2d, {@code [rows x cols]} = {@code [out, in*k*k]}, with
 * their scales, in the form the kernels run: symmetric ({@code w = scale * q}, no zero point),
 *
 * <ul>
 * <li>INT8: values in [-127, 127], one scale for the tensor or one per output channel;
 * <li>INT4: values in [-8, 7], one scale per group of 32, 64 or 128 along a row, two values packed
 *     per byte (see {@link Int4Matrix} for the nibble layout).
 * </ul>
 *
 * Construction checks every value and scale; a bad one is an {@link IllegalArgumentException}
 * naming it (the model-file reader turns it into a user error naming the file and tensor).
 */
public final class QuantizedWeights {

    private final int bits;
    private final Granularity granularity;
    private final int rows;
    private final int cols;
    private final float[] scales;
    private final Int8Matrix int8;
    private final Int4Matrix int4;

    private QuantizedWeights(int bits, Granularity granularity, int rows, int cols, float[] scales, Int8Matrix int8, Int4Matrix int4) {
        this.bits = bits;
        this.granularity = granularity;
        this.rows = rows;
        this.cols = cols;
        this.scales = scales;
        this.int8 = int8;
        this.int4 = int4;
    }

    /**
     * INT8 weights from {@code values[rows x cols]} (row-major, each in [-127, 127]) and one scale
     * ({@link Granularity#PER_TENSOR}) or one per row ({@link Granularity#PER_CHANNEL}).
     */
    public static QuantizedWeights int8(byte[] values, int rows, int cols, Granularity granularity, float[] scales) {
        int expected = switch (granularity) {
            case PER_TENSOR -> 1;
            case PER_CHANNEL -> rows;
            case PER_GROUP -> throw new IllegalArgumentException("INT8 weights are quantized per tensor or per channel, not per group");
        };
        if (scales.length != expected) {
            throw new IllegalArgumentException(granularity + " INT8 weights [" + rows + ", " + cols + "] need " + expected
                    + " scales, got " + scales.length);
        }
        for (int i = 0; i < scales.length; i++) Quantization.checkScale(scales[i], "weight scale[" + i + "]");
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("INT8 weights [" + rows + ", " + cols + "] need " + (long) rows * cols
                    + " values, got " + values.length);
        }
        return new QuantizedWeights(8, granularity, rows, cols, scales.clone(), Int8Matrix.pack(values, 0, rows, cols), null);
    }

    /** INT4 weights from {@code values[rows x cols]}, one per byte in [-8, 7], and per-group scales. */
    public static QuantizedWeights int4(byte[] values, int rows, int cols, int groupSize, float[] scales) {
        return ofInt4(Int4Matrix.pack(values, 0, rows, cols, groupSize, scales));
    }

    /** INT4 weights already packed two per byte, as {@link #packedInt4()} returns them. */
    public static QuantizedWeights int4Packed(byte[] packed, int rows, int cols, int groupSize, float[] scales) {
        return ofInt4(Int4Matrix.ofPacked(packed, rows, cols, groupSize, scales));
    }

    /**
     * Round-to-nearest min-max quantization of float weights {@code w[rows x cols]}: symmetric,
     * {@code scale = max|w| / qmax} per tensor, channel or group ({@code groupSize} for INT4).
     */
    public static QuantizedWeights roundToNearest(float[] w, int rows, int cols, int bits, Granularity granularity, int groupSize) {
        if (bits == 4) {
            if (granularity != Granularity.PER_GROUP) throw new IllegalArgumentException("INT4 weights are quantized per group");
            float[] scales = int4Scales(w, rows, cols, groupSize);
            QuantParams p = QuantParams.perGroup(QuantRange.INT4, groupSize, scales, new int[scales.length]);
            int padded = p.paddedCols(cols);
            byte[] q = new byte[rows * padded];
            Quantization.quantize(w, 0, rows, cols, p, q, 0);
            byte[] values = new byte[rows * cols];
            for (int r = 0; r < rows; r++) System.arraycopy(q, r * padded, values, r * cols, cols);
            return int4(values, rows, cols, groupSize, scales);
        }
        if (bits != 8) throw new IllegalArgumentException("weights are quantized to 8 or 4 bits, not " + bits);
        QuantRange range = QuantRange.INT8_NARROW;
        float[] scales;
        if (granularity == Granularity.PER_TENSOR) {
            scales = new float[] {Quantization.symmetricScale(absMax(w, 0, w.length), range)};
        } else {
            scales = Quantization.symmetricPerChannel(w, 0, rows, cols, range).scales();
        }
        byte[] q = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            float s = scales[scales.length == 1 ? 0 : r];
            for (int c = 0; c < cols; c++) q[r * cols + c] = (byte) Quantization.quantize(w[r * cols + c], s, 0, range);
        }
        return int8(q, rows, cols, granularity, scales);
    }

    /**
     * The min-max scales of INT4 groups, {@code max|w| / 7}, rounded to the nearest FP16 value: a
     * group of 64 INT4 weights takes 32 bytes, so a 4-byte scale would add 12.5% to it, a 2-byte
     * one 6%; the model file stores scales as F16 whenever they are exact in it.
     */
    public static float[] int4Scales(float[] w, int rows, int cols, int groupSize) {
        float[] scales = Quantization.symmetricPerGroup(w, 0, rows, cols, groupSize, QuantRange.INT4).scales();
        for (int i = 0; i < scales.length; i++) {
            float h = Float.float16ToFloat(Float.floatToFloat16(scales[i]));
            // a scale below FP16's range keeps its float value (stored as F32 then)
            if (h > 0f && Float.isFinite(h)) scales[i] = h;
        }
        return scales;
    }

    private static QuantizedWeights ofInt4(Int4Matrix m) {
        return new QuantizedWeights(4, Granularity.PER_GROUP, m.rows(), m.cols(), m.scales(), null, m);
    }

    private static float absMax(float[] w, int off, int n) {
        float m = 0f;
        for (int i = off; i < off + n; i++) m = Math.max(m, Math.abs(w[i]));
        return m;
    }

    public int bits() {
        return bits;
    }

    public Granularity granularity() {
        return granularity;
    }

    /** Elements per group along a row (INT4), 0 otherwise. */
    public int groupSize() {
        return int4 == null ? 0 : int4.groupSize();
    }

    /** Output channels. */
    public int rows() {
        return rows;
    }

    /** Inputs per output channel. */
    public int cols() {
        return cols;
    }

    /** The scales (a copy): 1, one per row, or {@code [rows x groups]} row-major. */
    public float[] scales() {
        return scales.clone();
    }

    /** The scale of output channel {@code row} (INT8 only). */
    float rowScale(int row) {
        return scales[scales.length == 1 ? 0 : row];
    }

    /** The INT8 weights as the kernels hold them, or null for INT4. */
    Int8Matrix int8() {
        return int8;
    }

    /** The INT4 weights as the kernels hold them, or null for INT8. */
    Int4Matrix int4() {
        return int4;
    }

    /** The INT8 values, {@code [rows x cols]} row-major (a copy). */
    public byte[] int8Values() {
        if (int8 == null) throw new IllegalStateException("not INT8 weights");
        byte[] v = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) v[r * cols + c] = (byte) int8.get(r, c);
        }
        return v;
    }

    /** The INT4 values packed two per byte, {@code [rows x paddedCols/2]} (a copy). */
    public byte[] packedInt4() {
        if (int4 == null) throw new IllegalStateException("not INT4 weights");
        return int4.packed();
    }

    /** The weight (row, col) as a real number: {@code scale * q}. */
    public float dequantized(int row, int col) {
        if (int8 != null) return rowScale(row) * int8.get(row, col);
        return int4.scale(row, col / int4.groupSize()) * int4.get(row, col);
    }

    /** Weights whose integer value is not 0. */
    public long nonzeros() {
        long n = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) if ((int8 != null ? int8.get(r, c) : int4.get(r, c)) != 0) n++;
        }
        return n;
    }

    /** Bytes the weights take on disk: the packed values and the scales. */
    public long storedBytes() {
        long values = int8 != null ? (long) rows * cols : (long) int4.rows() * int4.paddedCols() / 2;
        return values + 4L * scales.length;
    }

    /** "int8 per-channel", "int4 group 64". */
    public String describe() {
        return switch (granularity) {
            case PER_TENSOR -> "int" + bits + " per-tensor";
            case PER_CHANNEL -> "int" + bits + " per-channel";
            case PER_GROUP -> "int" + bits + " group " + groupSize();
        };
    }
}
