package dev.whittle.engine.nn;

import dev.whittle.engine.Tensor;

import java.util.Arrays;

/** Reuse of activation buffers across steps: a new tensor only when the shape changes. */
final class Buffers {

    private Buffers() {}

    static Tensor ensure(Tensor current, int... shape) {
        if (current != null && Arrays.equals(current.shape(), shape)) return current;
        return Tensor.zeros(shape);
    }

    /** The shape {@code [batch, perSample...]}. */
    static int[] batched(int batch, int[] perSample) {
        int[] s = new int[perSample.length + 1];
        s[0] = batch;
        System.arraycopy(perSample, 0, s, 1, perSample.length);
        return s;
    }

    static int product(int[] shape) {
        long n = Tensor.sizeOf(shape);
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " holds more than a Java array");
        return (int) n;
    }
}
