package dev.whittle.engine;

import java.util.Arrays;

/**
 * A dense, row-major block of floats with a shape. The first dimension of an activation is the
 * batch; a parameter's shape follows PyTorch ({@code Linear.weight} is {@code [out, in]}).
 */
public final class Tensor {

    private final float[] data;
    private final int[] shape;

    /** Wraps {@code data} (not copied) with {@code shape}; their sizes must agree. */
    public Tensor(float[] data, int... shape) {
        long size = sizeOf(shape);
        if (size != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + size
                    + " floats but the data has " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        long size = sizeOf(shape);
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
        return new Tensor(new float[(int) size], shape);
    }

    /** The number of elements a shape holds (1 for a scalar's empty shape). */
    public static long sizeOf(int... shape) {
        long size = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            size *= d;
        }
        return size;
    }

    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    public int size() {
        return data.length;
    }

    /** The same data seen with another shape of the same size. */
    public Tensor reshape(int... newShape) {
        return new Tensor(data, newShape);
    }

    /** A deep copy. */
    public Tensor copy() {
        return new Tensor(data.clone(), shape);
    }

    /** Sets every element to zero. */
    public void zero() {
        Arrays.fill(data, 0f);
    }

    /** Whether {@code other} has the same shape and bit-identical data. */
    public boolean bitEquals(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) return false;
        for (int i = 0; i < data.length; i++) {
            if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(other.data[i])) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
