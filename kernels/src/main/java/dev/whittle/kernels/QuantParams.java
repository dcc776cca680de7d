package dev.whittle.kernels;

import java.util.Arrays;

/**
 * How a tensor of {@code rows x cols} real numbers maps onto integers: {@code real = scale * (q -
 * zeroPoint)}, with one (scale, zero point) pair for the whole tensor, one per row (output
 * channel), or one per group of {@code groupSize} consecutive elements along a row (K). Rows of a
 * per-group tensor are padded with zeros to a whole number of groups.
 *
 * <p>Every scale is checked to be positive and finite and every zero point to lie in the range;
 * a bad value is an {@link IllegalArgumentException} that names it (a model-file reader turns it
 * into a user error). The arrays are copied in and out.
 *
 * @param range       the integer range of the values
 * @param granularity what one scale covers
 * @param groupSize   elements per group along a row (0 unless {@link Granularity#PER_GROUP})
 * @param scales      one per tensor, per row, or per (row, group) in row-major order
 * @param zeroPoints  as many as scales, each in {@code range}
 */
public record QuantParams(QuantRange range, Granularity granularity, int groupSize,
                          float[] scales, int[] zeroPoints) {

    /** What one (scale, zero point) pair covers. */
    public enum Granularity { PER_TENSOR, PER_CHANNEL, PER_GROUP }

    public QuantParams {
        if (range == null || granularity == null) throw new IllegalArgumentException("range and granularity are required");
        if (scales == null || zeroPoints == null) throw new IllegalArgumentException("scales and zero points are required");
        if (scales.length == 0) throw new IllegalArgumentException("at least one scale is required");
        if (scales.length != zeroPoints.length) {
            throw new IllegalArgumentException(scales.length + " scales but " + zeroPoints.length + " zero points");
        }
        if (granularity == Granularity.PER_TENSOR && scales.length != 1) {
            throw new IllegalArgumentException("a per-tensor quantization has one scale, got " + scales.length);
        }
        if (granularity == Granularity.PER_GROUP) {
            if (groupSize < 1) throw new IllegalArgumentException("group size must be positive, got " + groupSize);
        } else if (groupSize != 0) {
            throw new IllegalArgumentException("group size " + groupSize + " given for " + granularity);
        }
        scales = scales.clone();
        zeroPoints = zeroPoints.clone();
        for (int i = 0; i < scales.length; i++) Quantization.checkScale(scales[i], "scale[" + i + "]");
        for (int i = 0; i < zeroPoints.length; i++) Quantization.checkZeroPoint(zeroPoints[i], range, "zero point[" + i + "]");
    }

    /** One (scale, zero point) for the whole tensor. */
    public static QuantParams perTensor(QuantRange range, float scale, int zeroPoint) {
        return new QuantParams(range, Granularity.PER_TENSOR, 0, new float[] {scale}, new int[] {zeroPoint});
    }

    /** One (scale, zero point) per row. */
    public static QuantParams perChannel(QuantRange range, float[] scales, int[] zeroPoints) {
        return new QuantParams(range, Granularity.PER_CHANNEL, 0, scales, zeroPoints);
    }

    /** One (scale, zero point) per group of {@code groupSize} elements along each row. */
    public static QuantParams perGroup(QuantRange range, int groupSize, float[] scales, int[] zeroPoints) {
        return new QuantParams(range, Granularity.PER_GROUP, groupSize, scales, zeroPoints);
    }

    @Override
    public float[] scales() {
        return scales.clone();
    }

    @Override
    public int[] zeroPoints() {
        return zeroPoints.clone();
    }

    /** Whether every zero point is 0. */
    public boolean symmetric() {
        for (int z : zeroPoints) if (z != 0) return false;
        return true;
    }

    /** Row length after padding to whole groups ({@code cols} itself unless per group). */
    public int paddedCols(int cols) {
        return granularity == Granularity.PER_GROUP ? Quantization.roundUp(cols, groupSize) : cols;
    }

    /**
     * Checks that these parameters fit a {@code rows x paddedCols} tensor: the number of scales,
     * and for groups, that the group size divides the padded row length.
     */
    public void checkShape(int rows, int paddedCols) {
        if (rows < 1 || paddedCols < 1) throw new IllegalArgumentException("shape [" + rows + ", " + paddedCols + "] is empty");
        long expected = switch (granularity) {
            case PER_TENSOR -> 1;
            case PER_CHANNEL -> rows;
            case PER_GROUP -> {
                Quantization.checkGroupSize(groupSize, paddedCols);
                yield (long) rows * (paddedCols / groupSize);
            }
        };
        if (scales.length != expected) {
            throw new IllegalArgumentException(granularity + " quantization of [" + rows + ", " + paddedCols + "]"
                    + (granularity == Granularity.PER_GROUP ? " with group " + groupSize : "")
                    + " needs " + expected + " scales, got " + scales.length);
        }
    }

    /** Index of the (scale, zero point) pair for element (row, col). */
    public int index(int row, int col, int paddedCols) {
        return switch (granularity) {
            case PER_TENSOR -> 0;
            case PER_CHANNEL -> row;
            case PER_GROUP -> row * (paddedCols / groupSize) + col / groupSize;
        };
    }

    /** The scale of element (row, col). */
    public float scale(int row, int col, int paddedCols) {
        return scales[index(row, col, paddedCols)];
    }

    /** The zero point of element (row, col). */
    public int zeroPoint(int row, int col, int paddedCols) {
        return zeroPoints[index(row, col, paddedCols)];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantParams p && p.range == range && p.granularity == granularity
                && p.groupSize == groupSize && Arrays.equals(p.scales, scales) && Arrays.equals(p.zeroPoints, zeroPoints);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * range.hashCode() + granularity.hashCode() + groupSize) + Arrays.hashCode(scales)
                + 7 * Arrays.hashCode(zeroPoints);
    }

    @Override
    public String toString() {
        return "QuantParams[" + range + ", " + granularity + (groupSize > 0 ? " " + groupSize : "")
                + ", " + scales.length + " scales]";
    }
}
