package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Rng;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sparse weights in the model file: both layouts round-trip, and every inconsistent part is refused. */
class SparseStorageTest {

    @TempDir
    Path dir;

    /** A model whose first weight is {@code density} dense (so it is stored as CSR or bitmap). */
    static Sequential sparseModel(double density) throws BadInputException {
        Sequential m = ArchSpec.build("flatten linear(40) relu linear(3)", new int[] {50}, 3);
        float[] w = ((Linear) m.layers().get(1)).weight().value().data();
        Rng rng = new Rng(4);
        for (int i = 0; i < w.length; i++) if (rng.nextDouble() >= density) w[i] = 0f;
        return m;
    }

    private Path saved(double density) throws Exception {
        Path f = dir.resolve("m" + density + ".safetensors");
        ModelFile.save(sparseModel(density), f, Map.of());
        return f;
    }

    private Path rewrite(Path file, String name, UnaryOperator<TensorEntry> change) throws Exception {
        SafeTensorsFile st = SafeTensors.read(file);
        List<TensorEntry> entries = new ArrayList<>();
        for (TensorEntry e : st.tensors()) {
            if (!e.name().equals(name)) entries.add(e);
            else {
                TensorEntry c = change.apply(e);
                if (c != null) entries.add(c);
            }
        }
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, new LinkedHashMap<>(st.metadata()), entries);
        return bad;
    }

    private static void expectBad(Path file, String... mention) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file));
        for (String m : mention) assertTrue(e.getMessage().contains(m), "'" + m + "' not in: " + e.getMessage());
    }

    @Test
    void bothLayoutsRoundTrip() throws Exception {
        for (double d : new double[] {0.01, 0.3}) {
            Sequential m = sparseModel(d);
            Path f = saved(d);
            SafeTensorsFile st = SafeTensors.read(f);
            assertTrue(st.get(d < 0.05 ? "1.weight.col_idx" : "1.weight.bitmap") != null, "layout at density " + d);
            Sequential back = (Sequential) ModelFile.load(f).model();
            assertArrayEquals(((Linear) m.layers().get(1)).weight().value().data(), ((Linear) back.layers().get(1)).weight().value().data());
        }
    }

    @Test
    void inconsistentCsrIsRefused() throws Exception {
        Path f = saved(0.01);
        expectBad(rewrite(f, "1.weight.row_ptr", e -> {
            int[] p = e.toInts();
            p[5] = p[6] + 1;
            return TensorEntry.ofInts(e.name(), p, e.shape());
        }), "1.weight.row_ptr", "decreases");
        expectBad(rewrite(f, "1.weight.col_idx", e -> {
            byte[] b = e.data().clone();
            b[0] = 0x7F;   // column 127 (or more) in a 50-column row
            return new TensorEntry(e.name(), DType.I16, e.shape(), b);
        }), "1.weight.col_idx", "[0, 50)");
        expectBad(rewrite(f, "1.weight.values", e -> TensorEntry.ofFloats(e.name(), new float[1], 1)), "1.weight");
        expectBad(rewrite(f, "1.weight.row_ptr", e -> null), "1.weight.row_ptr", "missing");
    }

    @Test
    void inconsistentBitmapIsRefused() throws Exception {
        Path f = saved(0.3);
        expectBad(rewrite(f, "1.weight.bitmap", e -> {
            byte[] b = e.data().clone();
            b[0] ^= 1;
            return TensorEntry.ofBytes(e.name(), DType.U8, b, e.shape());
        }), "1.weight.bitmap", "values");
        expectBad(rewrite(f, "1.weight.bitmap", e -> TensorEntry.ofBytes(e.name(), DType.U8, new byte[3], 3)), "1.weight.bitmap", "U8");
    }
}
