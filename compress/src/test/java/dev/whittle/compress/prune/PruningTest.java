package dev.whittle.compress.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.optim.Adam;
import dev.whittle.engine.optim.Sgd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Masks, magnitude and N:M pruning, the gradual schedule, structural rebuilds and sparse storage. */
class PruningTest {

    @TempDir
    Path dir;

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

    @Test
    void globalAndLayerMagnitudeHitTheSparsityAndPruneTheSmallest() throws BadInputException {
        Sequential m = ArchSpec.build("flatten linear(50) relu linear(20) relu linear(5)", new int[] {30}, 1);
        MagnitudePruning.prune(m, 0.8, MagnitudePruning.Scope.GLOBAL);
        assertEquals(0.8, PrunableWeights.sparsity(m), 1e-3);
        float kept = Float.MAX_VALUE, pruned = 0f;
        Sequential fresh = ArchSpec.build("flatten linear(50) relu linear(20) relu linear(5)", new int[] {30}, 1);
        List<PrunableWeights> a = PrunableWeights.of(m), b = PrunableWeights.of(fresh);
        for (int l = 0; l < a.size(); l++) {
            float[] w = a.get(l).weight().value().data(), w0 = b.get(l).weight().value().data();
            for (int i = 0; i < w.length; i++) {
                if (w[i] != 0f) kept = Math.min(kept, Math.abs(w[i]));
                else pruned = Math.max(pruned, Math.abs(w0[i]));
            }
        }
        assertTrue(pruned <= kept, "a pruned weight " + pruned + " is larger than a kept one " + kept);
        MagnitudePruning.prune(fresh, 0.5, MagnitudePruning.Scope.LAYER);
        for (PrunableWeights w : PrunableWeights.of(fresh)) assertEquals(0.5, w.sparsity(), 0.01, "layer " + w.index());
    }

    @Test
    void pruningToLessThanAnExistingMaskKeepsTheMask() throws BadInputException {
        // a model already 90% sparse, pruned "to 50%" (the CLI on a pruned file): nothing regrows
        for (MagnitudePruning.Scope scope : MagnitudePruning.Scope.values()) {
            Sequential m = ArchSpec.build("flatten linear(50) relu linear(20) relu linear(5)", new int[] {30}, 1);
            MagnitudePruning.prune(m, 0.9, scope);
            List<boolean[]> before = PrunableWeights.of(m).stream().map(w -> w.weight().mask().clone()).toList();
            MagnitudePruning.prune(m, 0.5, scope);
            assertEquals(0.9, PrunableWeights.sparsity(m), 1e-3, scope.toString());
            List<PrunableWeights> after = PrunableWeights.of(m);
            for (int l = 0; l < after.size(); l++) {
                assertArrayEquals(before.get(l), after.get(l).weight().mask(), scope + " layer " + l);
            }
            MagnitudePruning.prune(m, 0.95, scope);   // further still works
            assertEquals(0.95, PrunableWeights.sparsity(m), 1e-3, scope.toString());
        }
    }

    @Test
    void masksHoldThroughAdamAndSgdSteps() throws BadInputException {
        for (boolean adam : new boolean[] {true, false}) {
            Sequential m = ArchSpec.build("flatten linear(8) relu linear(3)", new int[] {6}, 2);
            MagnitudePruning.prune(m, 0.6, MagnitudePruning.Scope.GLOBAL);
            var opt = adam ? Adam.adam(m.parameters(), 0.1f, 0f) : new Sgd(m.parameters(), 0.1f, 0.9f, false, 0.01f);
            for (int step = 0; step < 5; step++) {
                m.zeroGrad();
                Tensor out = m.forward(batch(4, new int[] {6}, step), true);
                float[] g = new float[out.size()];
                java.util.Arrays.fill(g, 1f);
                m.backward(new Tensor(g, out.shape()));
                opt.step();
            }
            assertEquals(0.6, PrunableWeights.sparsity(m), 0.02, adam ? "adam" : "sgd");
        }
    }

    @Test
    void twoOfFourKeepsTheTwoLargestOfEveryFour() throws BadInputException {
        Sequential m = ArchSpec.build("flatten linear(6) relu linear(2)", new int[] {10}, 3);
        float[] before = PrunableWeights.of(m).get(0).weight().value().data().clone();
        MagnitudePruning.pruneNofM(m, 2, 4);
        float[] w = PrunableWeights.of(m).get(0).weight().value().data();
        for (int r = 0; r < 6; r++) {
            for (int c0 = 0; c0 < 10; c0 += 4) {
                int len = Math.min(4, 10 - c0), nz = 0;
                float minKept = Float.MAX_VALUE, maxPruned = 0f;
                for (int j = 0; j < len; j++) {
                    int i = r * 10 + c0 + j;
                    if (w[i] != 0f) {
                        nz++;
                        minKept = Math.min(minKept, Math.abs(before[i]));
                    } else maxPruned = Math.max(maxPruned, Math.abs(before[i]));
                }
                assertEquals(Math.min(2, len), nz);
                assertTrue(maxPruned <= minKept);
            }
        }
    }

    @Test
    void theGradualScheduleFollowsTheCubic() {
        GradualSparsitySchedule s = new GradualSparsitySchedule(0, 0.9, 100, 10, 20);
        assertEquals(0, s.sparsity(100), 0);
        assertEquals(0.9, s.sparsity(300), 1e-12);
        assertEquals(0.9, s.sparsity(1000), 1e-12);
        // halfway: s_f + (s_i - s_f) * 0.5^3
        assertEquals(0.9 - 0.9 * 0.125, s.sparsity(200), 1e-12);
        assertTrue(s.updatesAt(120) && s.updatesAt(300) && !s.updatesAt(130) && !s.updatesAt(320));
        for (long t = 100; t < 300; t++) assertTrue(s.sparsity(t + 1) >= s.sparsity(t));
    }

    @Test
    void structuredPruningRebuildsASmallerModelThatMatchesTheMaskedOne() throws BadInputException {
        int[] input = {2, 10, 10};
        Sequential m = ArchSpec.build("conv(8,3,pad=1) bn relu maxpool(2) conv(6,3) relu flatten linear(12) relu linear(4)", input, 4);
        Rng rng = new Rng(9);
        for (Layer l : m.layers()) {
            if (l instanceof BatchNorm bn) {
                for (int c = 0; c < 8; c++) {
                    bn.weight().value().data()[c] = rng.uniform(0.1f, 2f);
                    bn.bias().value().data()[c] = rng.uniform(-0.5f, 0.5f);
                    bn.runningMean().data()[c] = rng.uniform(-0.2f, 0.2f);
                    bn.runningVar().data()[c] = rng.uniform(0.5f, 1.5f);
                }
            }
        }
        for (StructuredPruning.Criterion c : StructuredPruning.Criterion.values()) {
            StructuredPruning.Result r = StructuredPruning.prune(m, 0.5, c, batch(16, input, 10));
            assertEquals("conv(4,3,pad=1) bn relu maxpool(2) conv(3,3) relu flatten linear(6) relu linear(4)", r.model().arch());
            assertTrue(r.checkedDifference() <= 1e-5);
            assertEquals(1 - 13.0 / 26, r.unitsRemoved(), 1e-12);
            assertTrue(r.model().parameterCount() < m.parameterCount() / 2);
        }
        // the ranking: by BN gamma, the four channels of largest |gamma| stay
        StructuredPruning.Result g = StructuredPruning.prune(m, 0.5, StructuredPruning.Criterion.BN_GAMMA, null);
        float[] gamma = ((BatchNorm) m.layers().get(1)).weight().value().data();
        int[] kept = g.kept().get(0);
        float minKept = Float.MAX_VALUE, maxDropped = 0f;
        for (int c = 0; c < 8; c++) {
            boolean isKept = false;
            for (int k : kept) isKept |= k == c;
            if (isKept) minKept = Math.min(minKept, Math.abs(gamma[c]));
            else maxDropped = Math.max(maxDropped, Math.abs(gamma[c]));
        }
        assertTrue(maxDropped <= minKept);
    }

    @Test
    void removingAHiddenLayerLeavesAWorkingModel() throws BadInputException {
        Sequential m = ArchSpec.build("lenet-300-100", new int[] {1, 28, 28}, 5);
        Sequential r = LayerRemoval.remove(m, 3, 0);
        assertEquals("flatten linear(300) relu linear(10)", r.arch());
        assertArrayEquals(PrunableWeights.of(m).get(0).weight().value().data(), PrunableWeights.of(r).get(0).weight().value().data());
        assertEquals(10, r.predict(batch(2, new int[] {1, 28, 28}, 1)).dim(1));
        assertThrows(BadInputException.class, () -> LayerRemoval.remove(m, 5, 0));
        assertThrows(BadInputException.class, () -> LayerRemoval.remove(m, 2, 0));
    }

    @Test
    void sparseWeightsAreStoredCompressedAndReadBackExactly() throws Exception {
        Sequential m = ArchSpec.build("flatten linear(300) relu linear(100) relu linear(10)", new int[] {784}, 6);
        Tensor x = batch(3, new int[] {784}, 7);
        Path dense = dir.resolve("dense.safetensors");
        ModelFile.save(m, dense, Map.of());
        for (double s : new double[] {0.5, 0.9, 0.98}) {
            MagnitudePruning.prune(m, s, MagnitudePruning.Scope.LAYER);
            Path file = dir.resolve("sparse" + s + ".safetensors");
            ModelFile.save(m, file, Map.of());
            Sequential back = (Sequential) ModelFile.load(file).model();
            assertArrayEquals(m.forward(x, false).data().clone(), back.forward(x, false).data());
            SafeTensorsFile st = SafeTensors.read(file);
            String format = s < 0.95 ? "bitmap" : "csr";
            assertTrue(st.get("1.weight." + (format.equals("csr") ? "col_idx" : "bitmap")) != null, format + " at " + s);
            double ratio = (double) Files.size(file) / Files.size(dense);
            assertTrue(ratio < (1 - s) + 0.14, "sparsity " + s + ": file " + ratio + " of dense");
            // the nonzeros become masks: fine-tuning the loaded model keeps its zeros
            assertTrue(PrunableWeights.of(back).get(0).weight().mask() != null);
        }
    }

    @Test
    void aPrunedLinearRunsOnTheSparseKernelsAtInferenceAndAgreesWithDense() throws BadInputException {
        Sequential m = ArchSpec.build("flatten linear(300) relu linear(100) relu linear(10)", new int[] {784}, 8);
        MagnitudePruning.prune(m, 0.95, MagnitudePruning.Scope.LAYER);
        dev.whittle.engine.nn.Linear first = (dev.whittle.engine.nn.Linear) m.layers().get(1);
        assertTrue(first.executionAt(1).startsWith("sparse") && first.executionAt(64).startsWith("sparse"), first.executionAt(1));
        for (int n : new int[] {1, 5, 64}) {
            Tensor x = batch(n, new int[] {784}, 20 + n);
            float[] dense = m.forward(x, true).data().clone();   // training passes run dense
            float[] sparse = m.forward(x, false).data();
            for (int i = 0; i < dense.length; i++) assertEquals(dense[i], sparse[i], 1e-5 * (1 + Math.abs(dense[i])), "batch " + n);
        }
        // a weight changed in place (and said so) is seen at the next inference pass
        first.weight().setMask(null);
        java.util.Arrays.fill(first.weight().value().data(), 0.01f);
        first.weight().touch();
        assertTrue(first.executionAt(1).startsWith("dense"), first.executionAt(1));
    }
}
