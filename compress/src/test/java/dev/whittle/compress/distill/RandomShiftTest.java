package dev.whittle.compress.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.datasets.DataSplit;
import dev.whittle.datasets.Datasets;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.train.Batch;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.engine.train.Trainer;
import dev.whittle.engine.train.TrainingListener;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Shifted images against a direct translation, the range of the shifts, and the loop with shifts. */
class RandomShiftTest {

    /** {@code src} moved by (dy, dx), the vacated border repeating the nearest edge pixel. */
    static float[] translate(float[] src, int channels, int h, int w, int dy, int dx) {
        float[] out = new float[src.length];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int sy = Math.min(h - 1, Math.max(0, y - dy)), sx = Math.min(w - 1, Math.max(0, x - dx));
                    out[(c * h + y) * w + x] = src[(c * h + sy) * w + sx];
                }
            }
        }
        return out;
    }

    @Test
    void eachImageIsTheOriginalTranslatedByAtMostMaxAndAllShiftsOccur() {
        Rng rng = new Rng(4);
        int n = 200, channels = 2, h = 7, w = 9, max = 2, size = channels * h * w;
        float[] original = new float[n * size];
        for (int i = 0; i < original.length; i++) original[i] = rng.uniform(-1f, 1f);   // distinct values: a shift is identifiable
        Tensor x = new Tensor(original.clone(), n, channels, h, w);
        int[] drawn = new int[n];
        new RandomShift(max, 11).apply(x, n, drawn);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            float[] src = Arrays.copyOfRange(original, i * size, (i + 1) * size);
            float[] got = Arrays.copyOfRange(x.data(), i * size, (i + 1) * size);
            String match = null;
            for (int dy = -max; dy <= max && match == null; dy++) {
                for (int dx = -max; dx <= max && match == null; dx++) {
                    if (Arrays.equals(translate(src, channels, h, w, dy, dx), got)) match = dy + "," + dx;
                }
            }
            assertTrue(match != null, "image " + i + " is no shift of at most " + max + " of its original");
            assertEquals((drawn[i] / (2 * max + 1) - max) + "," + (drawn[i] % (2 * max + 1) - max), match, "image " + i + "'s shift number");
            seen.add(match);
        }
        assertEquals((2 * max + 1) * (2 * max + 1), seen.size(), "shifts seen: " + seen);
    }

    @Test
    void aBrightPixelMovesWithTheShiftAndOnlyTheCountedImagesChange() {
        int h = 6, w = 6;
        Tensor x = Tensor.zeros(3, 1, h, w);
        for (int i = 0; i < 3; i++) x.data()[i * h * w + 2 * w + 3] = 1f;   // pixel (2, 3) of every image
        new RandomShift(1, 5).apply(x, 2, new int[3]);
        for (int i = 0; i < 2; i++) {
            int bright = 0;
            for (int p = 0; p < h * w; p++) {
                if (x.data()[i * h * w + p] == 1f) {
                    bright++;
                    assertTrue(Math.abs(p / w - 2) <= 1 && Math.abs(p % w - 3) <= 1, "image " + i + " pixel " + p);
                }
            }
            assertEquals(1, bright, "image " + i);
        }
        assertEquals(1f, x.data()[2 * h * w + 2 * w + 3], "the third image is past count and stays");
    }

    @Test
    void theSameSeedGivesTheSameShifts() {
        Rng rng = new Rng(6);
        Tensor a = Tensor.zeros(20, 1, 8, 8);
        for (int i = 0; i < a.size(); i++) a.data()[i] = rng.uniform(0f, 1f);
        Tensor b = a.copy(), c = a.copy();
        new RandomShift(2, 9).apply(a, 20, new int[20]);
        new RandomShift(2, 9).apply(b, 20, new int[20]);
        new RandomShift(2, 10).apply(c, 20, new int[20]);
        assertArrayEquals(a.data(), b.data());
        assertFalse(Arrays.equals(a.data(), c.data()));
        assertThrows(IllegalArgumentException.class, () -> new RandomShift(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new RandomShift(1, 1).apply(Tensor.zeros(4, 16), 4, new int[4]));
    }

    @Test
    void theShiftedCacheHoldsTheTeachersLogitsOfEachShiftedImage() throws Exception {
        DataSplit data = Datasets.open("mnist-10k", null, 0.2, 0);
        Dataset few = data.train().first(30);
        Sequential teacher = ArchSpec.build("mlp(784,16,10)", few.sampleShape(), 3);
        RandomShift shifts = new RandomShift(1, 0);
        float[] cache = Distiller.teacherLogits(teacher, few, 10, shifts);
        assertEquals(9 * 30 * 10, cache.length);
        int[] order = new int[30];
        for (int i = 0; i < 30; i++) order[i] = i;
        for (int v = 0; v < 9; v++) {
            Tensor x = new Batch(few, 30).fill(few, order, 0, 30);
            for (int i = 0; i < 30; i++) shifts.translate(x, i, v);
            float[] z = teacher.predict(x).data();
            for (int j = 0; j < 30 * 10; j++) assertEquals(z[j], cache[v * 300 + j], 1e-5f, "shift " + v + " entry " + j);
        }
    }

    @Test
    void theShiftsDependOnTheSeedAloneAndTheTeacherLabelsShiftedImages() throws Exception {
        // alpha = 0 ignores the teacher; with shifts on, two different teachers must leave bit-equal
        // students (the shifts depend on the seed only), and those differ from a student without shifts
        DataSplit data = Datasets.open("mnist-10k", null, 0.2, 0);
        Sequential t1 = ArchSpec.build("mlp(784,16,10)", data.train().sampleShape(), 1);
        Sequential t2 = ArchSpec.build("mlp(784,16,10)", data.train().sampleShape(), 2);
        Trainer.fit(t2, data.train(), null, TrainConfig.defaults().withEpochs(1), TrainingListener.NONE);
        Sequential a = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Sequential b = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Sequential plain = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Sequential soft = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        Sequential softUncached = ArchSpec.build("mlp(784,32,10)", data.train().sampleShape(), 5);
        long steps = 40;
        Distiller.fit(t1, a, data.train(), null, new DistillConfig(4f, 0f, List.of(), steps, 64, 1e-3f, 7, 2, true), TrainingListener.NONE);
        Distiller.fit(t2, b, data.train(), null, new DistillConfig(2f, 0f, List.of(), steps, 64, 1e-3f, 7, 2, false), TrainingListener.NONE);
        Distiller.fit(t1, plain, data.train(), null, new DistillConfig(4f, 0f, List.of(), steps, 64, 1e-3f, 7, 0, true), TrainingListener.NONE);
        // the teacher labels the shifted images: from its cache of every shift of every image (200
        // images x 9 shifts, fewer passes than 40 steps of 64) as when it runs at every step
        Dataset few = data.train().first(200);
        Distiller.fit(t2, soft, few, null, new DistillConfig(4f, 0.9f, List.of(), steps, 64, 1e-3f, 7, 1, true), TrainingListener.NONE);
        Distiller.fit(t2, softUncached, few, null, new DistillConfig(4f, 0.9f, List.of(), steps, 64, 1e-3f, 7, 1, false), TrainingListener.NONE);
        List<Parameter> pa = a.parameters(), pb = b.parameters(), pp = plain.parameters(), ps = soft.parameters(), pu = softUncached.parameters();
        for (int i = 0; i < pa.size(); i++) {
            assertTrue(pa.get(i).value().bitEquals(pb.get(i).value()), "parameter " + i);
            assertTrue(ps.get(i).value().bitEquals(pu.get(i).value()), "parameter " + i + " with the teacher term");
        }
        assertFalse(pa.get(0).value().bitEquals(pp.get(0).value()), "shifts change what the student learns");
        assertFalse(pa.get(0).value().bitEquals(ps.get(0).value()), "the teacher term changes what the student learns");
    }
}
