package dev.whittle.compress.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.compress.coreset.Subset;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Dataset;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** Recipes read, write back and refuse bad settings; back-offs get gentler; the validation split is disjoint and seeded. */
class RecipeTest {

    @Test
    void aRecipeReadsBackAsItselfWithDefaultsFilledIn() throws BadInputException {
        Recipe r = Recipe.parse("""
                # a comment
                prune  sparsity=0.95   epochs=2   # trailing comment
                SHARE clusters=32
                quantize
                """, "test.recipe");
        assertEquals(List.of("prune", "share", "quantize"), r.steps().stream().map(Recipe.Step::name).toList());
        assertEquals(0.95, r.steps().get(0).number("sparsity"));
        assertEquals("global", r.steps().get(0).text("scope"));
        assertEquals(32, r.steps().get(1).integer("clusters"));
        assertEquals(r, Recipe.parse(r.text(), "again"));
    }

    @Test
    void stepsExpandPruneIntoStructuredThenUnstructured() throws BadInputException {
        Recipe r = Recipe.ofSteps(List.of("distill", "prune", "quantize"), "mlp(784,50,10)");
        assertEquals(List.of("distill", "prune-structured", "prune", "quantize"), r.steps().stream().map(Recipe.Step::name).toList());
        assertEquals("mlp(784,50,10)", r.steps().get(0).text("student"));
        BadInputException e = assertThrows(BadInputException.class, () -> Recipe.ofSteps(List.of("distill"), null));
        assertTrue(e.getMessage().contains("--student-arch"), e.getMessage());
    }

    @Test
    void badRecipesAreRefusedNamingTheLineTheSettingAndTheValue() {
        String[][] cases = {
                {"prune sparsity=1.5", "line 1", "sparsity=1.5"},
                {"\nprune sparsity=abc", "line 2", "sparsity=abc"},
                {"squeeze", "unknown step", "squeeze"},
                {"share colors=3", "no setting", "colors"},
                {"quantize bits=3", "bits=3", "8, 4"},
                {"quantize\nprune", "line 2", "last step"},
                {"prune\ndistill student=mlp(784,10)", "line 2", "first step"},
                {"prune schedule=gradual epochs=0", "epochs=1", "oneshot"},
                {"share clusters=1", "clusters=1", "2 .. 256"},
                {"distill", "student", "SPEC"},
                {"prune 0.9", "\"0.9\"", "key=value"},
                {"# nothing\n", "no steps", "r.recipe"},
                {"quantize calibration=percentile:200", "calibration", "percentile"},
        };
        for (String[] c : cases) {
            BadInputException e = assertThrows(BadInputException.class, () -> Recipe.parse(c[0], "r.recipe"), c[0]);
            for (int i = 1; i < c.length; i++) assertTrue(e.getMessage().contains(c[i]), c[0] + " -> " + e.getMessage());
            assertTrue(e.getMessage().startsWith("r.recipe") || c[0].startsWith("#"), e.getMessage());
        }
    }

    @Test
    void backOffsGetGentlerUntilThereIsNothingLeftToGive() throws BadInputException {
        Recipe r = Recipe.parse("prune-structured fraction=0.5\nprune sparsity=0.95\nshare clusters=64\nquantize bits=4", "r");
        Recipe.Step structured = r.steps().get(0), prune = r.steps().get(1), share = r.steps().get(2), quantize = r.steps().get(3);
        assertEquals(0.25, CompressionPipeline.backOff(structured, 1, null).number("fraction"));
        assertEquals(0.125, CompressionPipeline.backOff(structured, 2, null).number("fraction"));
        assertEquals(0.9, CompressionPipeline.backOff(prune, 1, null).number("sparsity"), 1e-12);
        assertEquals(0.8, CompressionPipeline.backOff(prune, 2, null).number("sparsity"), 1e-12);
        assertEquals(128, CompressionPipeline.backOff(share, 1, null).integer("clusters"));
        assertEquals(256, CompressionPipeline.backOff(share, 2, null).integer("clusters"));
        assertNull(CompressionPipeline.backOff(share, 3, null));
        // INT4 moves its most INT4-sensitive layers to INT8 one at a time, then all of them; then
        // the most INT8-sensitive layers stay FP32, one more each time
        IntFunction<List<Integer>> order = bits -> bits == 4 ? List.of(5, 0, 3) : List.of(3, 0, 5);
        assertEquals(4, CompressionPipeline.backOff(quantize, 1, order).integer("bits"));
        assertEquals("5", CompressionPipeline.backOff(quantize, 1, order).text("int8-layers"));
        assertEquals("5,0", CompressionPipeline.backOff(quantize, 2, order).text("int8-layers"));
        Recipe.Step allInt8 = CompressionPipeline.backOff(quantize, 3, order);
        assertEquals(8, allInt8.integer("bits"));
        assertFalse(allInt8.settings().containsKey("int8-layers"));
        assertFalse(allInt8.settings().containsKey("keep-float"));
        assertEquals("3", CompressionPipeline.backOff(quantize, 4, order).text("keep-float"));
        assertEquals("3,0", CompressionPipeline.backOff(quantize, 5, order).text("keep-float"));
        assertNull(CompressionPipeline.backOff(quantize, 6, order), "one layer always stays integer");
        Recipe.Step int8 = quantize.with("bits", "8");
        assertEquals("3", CompressionPipeline.backOff(int8, 1, order).text("keep-float"));
        assertEquals(prune, CompressionPipeline.backOff(prune, 0, null));
    }

    @Test
    void theValidationSplitIsASeededDisjointTenthOfTheTrainingSplit() {
        Dataset all = new Dataset() {
            public String name() { return "ids"; }
            public int size() { return 1003; }
            public int[] sampleShape() { return new int[] {1}; }
            public int numClasses() { return 2; }
            public int label(int i) { return i % 2; }
            public void sample(int i, float[] dst, int off) { dst[off] = i; }
        };
        ValidationSplit a = ValidationSplit.of(all, 0.1, 7), b = ValidationSplit.of(all, 0.1, 7), c = ValidationSplit.of(all, 0.1, 8);
        assertEquals(100, a.validation().size());
        assertEquals(903, a.train().size());
        int[] va = ((Subset) a.validation()).indices(), ta = ((Subset) a.train()).indices();
        Set<Integer> seen = new HashSet<>();
        for (int i : va) seen.add(i);
        for (int i : ta) assertTrue(seen.add(i), "sample " + i + " is in both");
        assertEquals(1003, seen.size());
        assertTrue(Arrays.equals(va, ((Subset) b.validation()).indices()), "same seed, same split");
        assertTrue(!Arrays.equals(va, ((Subset) c.validation()).indices()), "another seed, another split");
    }
}
