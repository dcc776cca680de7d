package dev.whittle.engine;

import java.util.SplittableRandom;

/**
 * The engine's only source of randomness: a seeded {@link SplittableRandom}, whose algorithm is
 * fixed by its specification, so a seed means the same numbers on every JDK and machine.
 */
public final class Rng {

    private final SplittableRandom random;

    public Rng(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A uniform float in {@code [lo, hi)}. */
    public float uniform(float lo, float hi) {
        return lo + (hi - lo) * (float) random.nextDouble();
    }

    /** A standard normal sample (Box-Muller, one of the pair used, for a simple fixed definition). */
    public float normal() {
        double u1 = 1.0 - random.nextDouble(); // in (0, 1]: log stays finite
        double u2 = random.nextDouble();
        return (float) (Math.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2));
    }

    /** A uniform int in {@code [0, bound)}. */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** A uniform double in {@code [0, 1)}. */
    public double nextDouble() {
        return random.nextDouble();
    }

    /** A new generator whose stream is independent of this one's continuation. */
    public Rng split() {
        return new Rng(random.nextLong());
    }

    /** Shuffles {@code a} in place (Fisher-Yates). */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
