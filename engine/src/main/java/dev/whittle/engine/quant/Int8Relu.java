package dev.whittle.engine.quant;

/** ReLU on int8 values: a clamp at the zero point, which stands for the real 0. */
final class Int8Relu implements QuantizedLayer {

    private final int[] shape;
    private final Activations y = new Activations();

    Int8Relu(int[] shape) {
        this.shape = shape.clone();
    }

    @Override
    public Activations forward(Activations x) {
        y.asInt8(x.batch(), shape, x.scale(), x.zeroPoint());
        byte[] in = x.bytes(), out = y.bytes();
        byte zero = (byte) x.zeroPoint();
        for (int i = 0, n = x.size(); i < n; i++) out[i] = in[i] < zero ? zero : in[i];
        return y;
    }

    @Override
    public int[] outputShape() {
        return shape.clone();
    }

    @Override
    public String spec() {
        return "relu";
    }

    @Override
    public String precision() {
        return "int8";
    }
}
