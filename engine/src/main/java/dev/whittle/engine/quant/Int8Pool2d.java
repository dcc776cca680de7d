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
        int planes = x.batch() * channels;
        if (max && kh == 2 && kw == 2 && stride == 2) maxPool2x2(in, out, planes);
        else if (max) maxPool(in, out, planes);
        else avgPool(in, out, planes);
        return y;
    }

    /** The common case, LeNet's: each output the largest of two pairs of neighbours on two rows. */
    private void maxPool2x2(byte[] in, byte[] out, int planes) {
        for (int p = 0, o = 0; p < planes; p++) {
            for (int oy = 0; oy < outH; oy++) {
                int r0 = p * height * width + 2 * oy * width, r1 = r0 + width;
                for (int ox = 0; ox < outW; ox++, o++) {
                    int a = Math.max(in[r0 + 2 * ox], in[r0 + 2 * ox + 1]), b = Math.max(in[r1 + 2 * ox], in[r1 + 2 * ox + 1]);
                    out[o] = (byte) Math.max(a, b);
                }
            }
        }
    }

    private void maxPool(byte[] in, byte[] out, int planes) {
        for (int p = 0, o = 0; p < planes; p++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++, o++) {
                    int corner = p * height * width + oy * stride * width + ox * stride, m = Byte.MIN_VALUE;
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0, at = corner + ky * width; kx < kw; kx++) m = Math.max(m, in[at + kx]);
                    }
                    out[o] = (byte) m;
                }
            }
        }
    }

    private void avgPool(byte[] in, byte[] out, int planes) {
        int window = kh * kw;
        for (int p = 0, o = 0; p < planes; p++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++, o++) {
                    int corner = p * height * width + oy * stride * width + ox * stride, sum = 0;
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0, at = corner + ky * width; kx < kw; kx++) sum += in[at + kx];
                    }
                    out[o] = (byte) (int) Math.rint((double) sum / window);
                }
            }
        }
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
