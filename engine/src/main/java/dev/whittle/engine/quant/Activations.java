package dev.whittle.engine.quant;

import java.util.Arrays;

/**
 * A batch of activations between two steps of a {@link QuantizedModel}: either floats, or int8
 * values with one (scale, zero point) for the whole tensor, {@code real = scale * (q - zeroPoint)}.
 * Each step owns the buffer it writes and reuses it from call to call.
 */
public final class Activations {

    private int batch;
    private int[] shape = new int[0];
    private boolean quantized;
    private float[] floats = new float[0];
    private byte[] bytes = new byte[0];
    private float scale = 1f;
    private int zeroPoint;

    /** Float activations {@code [batch, shape...]}; the buffer is grown when needed. */
    public Activations asFloats(int batch, int[] shape) {
        set(batch, shape, false);
        int n = size();
        // exactly the size: a float layer wraps the buffer in a Tensor, which checks its length
        if (floats.length != n) floats = new float[n];
        return this;
    }

    /** Int8 activations {@code [batch, shape...]} with their quantization. */
    public Activations asInt8(int batch, int[] shape, float scale, int zeroPoint) {
        set(batch, shape, true);
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        int n = size();
        if (bytes.length < n) bytes = new byte[n];
        return this;
    }

    /** Wraps a float batch (not copied): its first dimension is the batch. */
    public static Activations wrap(float[] data, int[] batchShape) {
        Activations a = new Activations();
        a.set(batchShape[0], Arrays.copyOfRange(batchShape, 1, batchShape.length), false);
        a.floats = data;
        return a;
    }

    /** Float activations held in {@code data} (not copied; exactly {@code batch * sampleSize} long). */
    Activations wrapFloats(float[] data, int batch, int[] shape) {
        set(batch, shape, false);
        floats = data;
        return this;
    }

    /** These values seen with another per-sample shape of the same size. */
    Activations reshape(int[] newShape) {
        this.shape = newShape;
        return this;
    }

    private void set(int batch, int[] shape, boolean quantized) {
        this.batch = batch;
        this.shape = shape;
        this.quantized = quantized;
    }

    public int batch() {
        return batch;
    }

    /** The per-sample shape (not a copy: do not change it). */
    public int[] shape() {
        return shape;
    }

    /** Values per sample. */
    public int sampleSize() {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** Values in the batch. */
    public int size() {
        return batch * sampleSize();
    }

    public boolean quantized() {
        return quantized;
    }

    /** The float values (valid when not {@link #quantized()}); may be longer than {@link #size()}. */
    public float[] floats() {
        return floats;
    }

    /** The int8 values (valid when {@link #quantized()}); may be longer than {@link #size()}. */
    public byte[] bytes() {
        return bytes;
    }

    public float scale() {
        return scale;
    }

    public int zeroPoint() {
        return zeroPoint;
    }
}
