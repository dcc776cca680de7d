package dev.whittle.engine;

/**
 * Seeded weight initialisation. {@link #pytorchDefault} is what {@code torch.nn.Linear} and
 * {@code Conv2d} do (Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)))
 * so training curves are comparable with PyTorch's; He et al. 2015 and Glorot and Bengio 2010
 * are there for users who want them.
 */
public final class Init {

    private Init() {}

    /** U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default for weights and biases. */
    public static void pytorchDefault(Tensor t, int fanIn, Rng rng) {
        uniform(t, (float) (1.0 / Math.sqrt(fanIn)), rng);
    }

    /** Kaiming (He et al. 2015) uniform for ReLU: U(-b, b), b = sqrt(6 / fanIn). */
    public static void kaimingUniform(Tensor t, int fanIn, Rng rng) {
        uniform(t, (float) Math.sqrt(6.0 / fanIn), rng);
    }

    /** Kaiming normal for ReLU: N(0, 2 / fanIn). */
    public static void kaimingNormal(Tensor t, int fanIn, Rng rng) {
        float std = (float) Math.sqrt(2.0 / fanIn);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = std * rng.normal();
    }

    /** Xavier/Glorot (2010) uniform: U(-b, b), b = sqrt(6 / (fanIn + fanOut)). */
    public static void xavierUniform(Tensor t, int fanIn, int fanOut, Rng rng) {
        uniform(t, (float) Math.sqrt(6.0 / (fanIn + fanOut)), rng);
    }

    private static void uniform(Tensor t, float bound, Rng rng) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = rng.uniform(-bound, bound);
    }
}
