package dev.whittle.compress.distill;

import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;

/**
 * Random translation of a batch of images by up to {@code max} pixels along each axis, as Hinton et
 * al. 2015 jitter MNIST digits by up to two pixels. Each image draws its own {@code (dy, dx)} from
 * the seeded generator, two draws per image whatever the loss, so a student and its scratch twin
 * with the same seed see the same shifted images.
 *
 * <p>The {@code (2 max + 1)²} shifts are numbered {@code (dy + max) * (2 max + 1) + (dx + max)}, so
 * a teacher's logits can be cached per image and shift. The border the image moves away from
 * repeats the nearest edge pixel: that needs no knowledge of how the dataset normalised its pixels,
 * and on centred images such as MNIST's the edge is background.
 */
final class RandomShift {

    private final int max;
    private final Rng rng;
    private float[] plane = new float[0];

    RandomShift(int max, long seed) {
        if (max < 1) throw new IllegalArgumentException("max shift must be >= 1, got " + max);
        this.max = max;
        this.rng = new Rng(seed);
    }

    /** How many distinct shifts there are, {@code (2 max + 1)²}. */
    int shifts() {
        return (2 * max + 1) * (2 * max + 1);
    }

    /**
     * Shifts each of the first {@code count} images of {@code x}, shaped {@code [N, C, H, W]}, in place
     * by a shift drawn for it, whose number goes to {@code drawn[i]}.
     */
    void apply(Tensor x, int count, int[] drawn) {
        for (int i = 0; i < count; i++) {
            int dy = rng.nextInt(2 * max + 1), dx = rng.nextInt(2 * max + 1);
            drawn[i] = dy * (2 * max + 1) + dx;
            translate(x, i, drawn[i]);
        }
    }

    /** Moves image {@code i} of {@code x} ({@code [N, C, H, W]}) in place by shift number {@code shift}. */
    void translate(Tensor x, int i, int shift) {
        if (x.rank() != 4) throw new IllegalArgumentException("shifts need images [N, C, H, W], got rank " + x.rank());
        int dy = shift / (2 * max + 1) - max, dx = shift % (2 * max + 1) - max;
        if (dy == 0 && dx == 0) return;
        int channels = x.dim(1), h = x.dim(2), w = x.dim(3), area = h * w;
        if (plane.length < area) plane = new float[area];
        float[] data = x.data();
        for (int c = 0; c < channels; c++) {
            int base = (i * channels + c) * area;
            System.arraycopy(data, base, plane, 0, area);
            for (int y = 0; y < h; y++) {
                int row = Math.clamp(y - dy, 0, h - 1) * w, out = base + y * w;
                for (int col = 0; col < w; col++) data[out + col] = plane[row + Math.clamp(col - dx, 0, w - 1)];
            }
        }
    }
}
