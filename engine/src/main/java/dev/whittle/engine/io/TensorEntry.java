package dev.whittle.engine.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor of a safetensors file: its dtype, shape (empty for a scalar) and raw
 * little-endian bytes in row-major order.
 *
 * <p>The data array is shared, not copied: model tensors can be large, and a file should cost
 * its own size in memory, not twice that. The shape is copied in and out. Equality compares
 * the name, dtype, shape and data contents.
 */
public record TensorEntry(String name, DType dtype, int[] shape, byte[] data) {

    /** The largest tensor, in bytes, that a Java array can hold (as {@code ArrayList} assumes). */
    static final int MAX_BYTES = Integer.MAX_VALUE - 8;

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (name.isEmpty()) throw new IllegalArgumentException("a tensor name must not be empty");
        shape = shape.clone();
        long elements = elementCount(shape);
        if (elements < 0) throw new IllegalArgumentException("tensor '" + name + "' has a bad shape " + Arrays.toString(shape));
        // Compared by division first so that a huge shape cannot overflow the byte count.
        if (elements > Integer.MAX_VALUE / dtype.bytes() || elements * dtype.bytes() != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "' " + dtype + " " + Arrays.toString(shape) + " holds "
                    + elements + " elements of " + dtype.bytes() + " bytes but its data has " + data.length + " bytes");
        }
    }

    /** An F32 tensor holding {@code values} (copied into little-endian bytes, bit for bit). */
    public static TensorEntry ofFloats(String name, float[] values, int... shape) {
        byte[] bytes = new byte[Math.multiplyExact(values.length, Float.BYTES)];
        // A bulk buffer copy moves raw bits, so NaN payloads survive (no canonicalisation).
        littleEndian(bytes).asFloatBuffer().put(values);
        return new TensorEntry(name, DType.F32, shape, bytes);
    }

    /** An I32 tensor holding {@code values} (copied into little-endian bytes). */
    public static TensorEntry ofInts(String name, int[] values, int... shape) {
        byte[] bytes = new byte[Math.multiplyExact(values.length, Integer.BYTES)];
        littleEndian(bytes).asIntBuffer().put(values);
        return new TensorEntry(name, DType.I32, shape, bytes);
    }

    /** An I8 or U8 tensor wrapping {@code values} (not copied). */
    public static TensorEntry ofBytes(String name, DType dtype, byte[] values, int... shape) {
        if (dtype != DType.I8 && dtype != DType.U8) {
            throw new IllegalArgumentException("ofBytes takes I8 or U8, not " + dtype + " (tensor '" + name + "')");
        }
        return new TensorEntry(name, dtype, shape, values);
    }

    /** The elements of an F32 tensor, bit for bit. */
    public float[] toFloats() {
        requireDType(DType.F32);
        float[] values = new float[data.length / Float.BYTES];
        littleEndian(data).asFloatBuffer().get(values);
        return values;
    }

    /**
     * {@link #toFloats()} for values a model computes with (weights, biases): a NaN or infinite
     * element, which no training produces, is refused naming the file, the tensor and the element.
     */
    public float[] toFiniteFloats(java.nio.file.Path file) throws dev.whittle.engine.BadInputException {
        float[] values = toFloats();
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new dev.whittle.engine.BadInputException(file + ": tensor '" + name + "' element " + i + " is " + values[i]
                        + "; a model's values must be finite");
            }
        }
        return values;
    }

    /** The elements of an I32 tensor. */
    public int[] toInts() {
        requireDType(DType.I32);
        int[] values = new int[data.length / Integer.BYTES];
        littleEndian(data).asIntBuffer().get(values);
        return values;
    }

    /** A copy of the shape. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** The number of elements (1 for a scalar, 0 when any dimension is 0). */
    public long elementCount() {
        return elementCount(shape);
    }

    /**
     * The product of the dimensions, or -1 when a dimension is negative or the product does not
     * fit in a long. Readers call this on untrusted shapes before allocating anything.
     */
    static long elementCount(int[] shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) return -1;
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException overflow) {
                return -1;
            }
        }
        return count;
    }

    private void requireDType(DType wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("tensor '" + name + "' is " + dtype + ", not " + wanted);
        }
    }

    private static ByteBuffer littleEndian(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t
                && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "TensorEntry[" + name + " " + dtype + " " + Arrays.toString(shape) + ", " + data.length + " bytes]";
    }
}
