package dev.whittle.engine.quant;

import dev.whittle.kernels.Im2col;

/**
 * Max or average pooling straight on int8 values. Quantization is monotone, so the maximum of
 * the quantized values is the quantized maximum, exactly; the average is the integer mean rounded
 * half to even, which is the quantized real mean to within half a step. Scale and zero point pass
 * through unchanged. Global average pooling is the case of one window per plane.
 */
final class Int8Pool2d implements QuantizedLayer {

    private final boolean max;
    private final int channels, height, width;
    private final int kh, kw, stride;
    private final int outH, outW;
    private final String spec;
    private final Activations y = new Activations();

    Int8Pool2d(boolean max, int[] inputShape, int kh, int kw, int stride, String spec) {
        this.max = max;
        this.channels = inputShape[0];
        this.height = inputShape[1];
        this.width = inputShape[2];
        this.kh = kh;
        this.kw = kw;
        this.stride = stride;
        this.outH = Im2col.outputSize(height, kh, stride, 0);
        this.outW = Im2col.outputSize(width, kw, stride, 0);
        this.spec = spec;
    }

    @Override
    public Activations forward(Activations x) {
        int[] shape = spec.equals("gap") ? new int[] {channels} : new int[] {channels, outH, outW};
        y.asInt8(x.batch(), shape, x.scale(), x.zeroPoint());
        byte[] in = x.bytes(), out = y.bytes();
        int planes = x.batch() * channels, window = kh * kw;
        for (int p = 0, o = 0; p < planes; p++) {
            int base = p * height * width;
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++, o++) {
                    int corner = base + oy * stride * width + ox * stride;
                    int acc = max ? Byte.MIN_VALUE : 0;
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0, at = corner + ky * width; kx < kw; kx++) {
                            acc = max ? Math.max(acc, in[at + kx]) : acc + in[at + kx];
                        }
                    }
                    out[o] = (byte) (max ? acc : (int) Math.rint((double) acc / window));
                }
            }
        }
        return y;
    }

    @Override
    public int[] outputShape() {
        return spec.equals("gap") ? new int[] {channels} : new int[] {channels, outH, outW};
    }

    @Override
    public String spec() {
        return spec;
    }

    @Override
    public String precision() {
        return "int8";
    }
}
