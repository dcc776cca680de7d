package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import org.junit.jupiter.api.Test;

/** Batch-norm folding and cross-layer equalization change the layers, not what the model computes. */
class FloatTransformsTest {

    static Tensor batch(int n, int[] shape, long seed) {
        int size = 1;
        for (int d : shape) size *= d;
        Rng rng = new Rng(seed);
        float[] x = new float[n * size];
        for (int i = 0; i < x.length; i++) x[i] = rng.uniform(-1f, 1f);
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return new Tensor(x, s);
    }

    static void assertClose(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), "element " + i);
    }

    @Test
    void foldedBatchNormsComputeTheSame() throws Exception {
        int[] input = {2, 6, 6};
        Sequential model = ArchSpec.build("conv(4,3,pad=1) bn relu bn flatten linear(6) bn linear(3)", input, 1);
        Rng rng = new Rng(2);
        for (Layer l : model.layers()) {
            if (!(l instanceof BatchNorm bn)) continue;
            for (float[] a : new float[][] {bn.weight().value().data(), bn.bias().value().data(), bn.runningMean().data()}) {
                for (int i = 0; i < a.length; i++) a[i] = rng.uniform(-1f, 1f);
            }
            float[] v = bn.runningVar().data();
            for (int i = 0; i < v.length; i++) v[i] = rng.uniform(0.2f, 2f);
        }
        Tensor x = batch(5, input, 3);
        float[] want = model.forward(x, false).data().clone();
        Sequential folded = BatchNormFolding.fold(model);
        assertEquals("conv(4,3,pad=1) relu bn flatten linear(6) linear(3)", folded.arch());
        assertClose(want, folded.forward(x, false).data(), 1e-5);
        assertClose(want, model.forward(x, false).data(), 0);   // the original is untouched
        Sequential plain = ArchSpec.build("flatten linear(4) relu linear(2)", new int[] {3}, 1);
        assertSame(plain, BatchNormFolding.fold(plain));
    }

    @Test
    void equalizationKeepsTheOutputsAndEqualizesTheRanges() throws Exception {
        int[] input = {2, 8, 8};
        Sequential model = ArchSpec.build("conv(4,3) relu maxpool(2) flatten linear(8) relu linear(3)", input, 4);
        // one channel far wider than the others: what per-tensor quantization handles worst
        float[] w = ((Conv2d) model.layers().get(0)).weight().value().data();
        for (int i = 0; i < 18; i++) w[i] *= 50f;
        ((Conv2d) model.layers().get(0)).bias().value().data()[0] *= 50f;
        Tensor x = batch(4, input, 5);
        float[] want = model.forward(x, false).data().clone();
        assertEquals(2, CrossLayerEqualization.equalize(model));
        assertClose(want, model.forward(x, false).data(), 1e-4);
        // conv channel c against its 9 inputs (3x3 after pooling) of each row of linear(8)
        float[] w1 = ((Conv2d) model.layers().get(0)).weight().value().data();
        float[] w2 = ((Linear) model.layers().get(4)).weight().value().data();
        for (int c = 0; c < 4; c++) {
            float r1 = 0f, r2 = 0f;
            for (int p = c * 18; p < (c + 1) * 18; p++) r1 = Math.max(r1, Math.abs(w1[p]));
            for (int o = 0; o < 8; o++) for (int p = o * 36 + c * 9; p < o * 36 + (c + 1) * 9; p++) r2 = Math.max(r2, Math.abs(w2[p]));
            assertEquals(r1, r2, 1e-2 * r1, "channel " + c);
        }
        float lo = Float.MAX_VALUE, hi = 0f;
        for (int c = 0; c < 4; c++) {
            float r = 0f;
            for (int p = c * 18; p < (c + 1) * 18; p++) r = Math.max(r, Math.abs(w1[p]));
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
        }
        assertTrue(hi / lo < 10, "channel ranges still " + lo + " .. " + hi);
        assertFalse(CrossLayerEqualization.pairs(ArchSpec.build("flatten linear(4) tanh linear(2)", new int[] {3}, 1).layers()).iterator().hasNext());
    }
}
