package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import dev.whittle.kernels.Quantization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Huffman-coded INT8 weights: exact round trips at every density and shape, chosen only when smallest, and every lie refused. */
class HuffmanStorageTest {

    static final Path FILE = Path.of("w.safetensors");

    @TempDir
    Path dir;

    /** {@code n} INT8 values, each nonzero with probability {@code density}, drawn from {@code distinct} shared values. */
    static byte[] sparseInt8(Rng rng, int n, double density, int distinct) {
        byte[] codebook = new byte[distinct];
        for (int i = 0; i < distinct; i++) {
            byte v;
            do v = (byte) (rng.nextInt(255) - 127); while (v == 0 || contains(codebook, i, v));
            codebook[i] = v;
        }
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) if (rng.nextDouble() < density) w[i] = codebook[rng.nextInt(distinct)];
        return w;
    }

    private static boolean contains(byte[] a, int len, byte v) {
        for (int i = 0; i < len; i++) if (a[i] == v) return true;
        return false;
    }

    private static byte[] roundTrip(byte[] w) throws BadInputException {
        byte[] coded = HuffmanStorage.encode(w);
        return HuffmanStorage.decode(FILE, TensorEntry.ofBytes("1.weight.huffman", DType.U8, coded, coded.length), w.length);
    }

    @Test
    void randomSparseWeightsRoundTrip() throws Exception {
        Rng rng = new Rng(3);
        int[][] shapes = {{1, 1}, {3, 17}, {300, 784}, {16, 6 * 5 * 5}, {100, 10}};
        for (int[] shape : shapes) {
            for (double density : new double[] {0.01, 0.03, 0.1, 0.25, 0.5}) {
                for (int distinct : new int[] {1, 2, 16, 64}) {
                    byte[] w = sparseInt8(rng, shape[0] * shape[1], density, distinct);
                    assertArrayEquals(w, roundTrip(w), Arrays.toString(shape) + " at density " + density + ", " + distinct + " values");
                }
            }
        }
    }

    @Test
    void allZeroAndLongRunsAcrossRowEndsRoundTrip() throws Exception {
        assertArrayEquals(new byte[300 * 784], roundTrip(new byte[300 * 784]));
        assertArrayEquals(new byte[1], roundTrip(new byte[1]));
        byte[] w = new byte[5 * 300];
        w[3] = 7;
        w[1400] = -127;   // 1,396 zeros, over four rows: escapes of every alphabet
        w[1499] = 127;    // the very last element
        assertArrayEquals(w, roundTrip(w));
        byte[] first = new byte[2000];
        first[0] = 1;     // one nonzero, then only uncoded trailing zeros
        assertArrayEquals(first, roundTrip(first));
        byte[] evenlySpaced = new byte[3000];
        for (int i = 9; i < evenlySpaced.length; i += 10) evenlySpaced[i] = 5;
        byte[] coded = HuffmanStorage.encode(evenlySpaced);
        assertArrayEquals(evenlySpaced, roundTrip(evenlySpaced));
        // one gap and one value, both codes of one symbol: the whole weight is its header
        assertTrue(coded.length < 20, coded.length + " bytes");
    }

    @Test
    void huffmanIsChosenExactlyWhenItIsSmallest() {
        Rng rng = new Rng(8);
        int huffman = 0, other = 0;
        for (int trial = 0; trial < 120; trial++) {
            int rows = 1 + rng.nextInt(64), cols = 1 + rng.nextInt(300);
            double density = new double[] {0.001, 0.01, 0.05, 0.2, 0.5, 0.9, 1.0}[trial % 7];
            int distinct = new int[] {1, 4, 16, 64, 200}[trial % 5];
            byte[] w = sparseInt8(rng, rows * cols, density, distinct);
            int nnz = 0;
            for (byte b : w) if (b != 0) nnz++;
            long csr = 4L * (rows + 1) + 2L * nnz + nnz, bitmap = (w.length + 7) / 8 + (long) nnz, dense = w.length;
            long coded = HuffmanStorage.encode(w).length;
            Map<String, Object> index = new LinkedHashMap<>();
            List<TensorEntry> parts = SparseStorage.encodeInt8("1.weight", w, new int[] {rows, cols}, index);
            boolean smallest = coded < Math.min(dense, Math.min(csr, bitmap));
            Object format = index.containsKey("1.weight") ? ((Map<?, ?>) index.get("1.weight")).get("format") : "dense";
            assertEquals(smallest, "huffman".equals(format), "trial " + trial + ": " + format + ", huffman " + coded + " bytes, dense " + dense
                    + ", csr " + csr + ", bitmap " + bitmap);
            if (smallest) {
                assertEquals(1, parts.size());
                assertEquals("1.weight.huffman", parts.get(0).name());
                huffman++;
            } else {
                other++;
            }
        }
        assertTrue(huffman > 10 && other > 10, huffman + " huffman, " + other + " other");
    }

    @Test
    void aTypicalPrunedLayerCodesNearItsEntropy() {
        // 300x784 at 5% density, 16 shared values: positions cost log2 C(n, nnz) / nnz, values log2 16 if uniform
        Rng rng = new Rng(5);
        int n = 300 * 784;
        byte[] w = sparseInt8(rng, n, 0.05, 16);
        int nnz = 0;
        Map<Byte, Integer> counts = new HashMap<>();
        for (byte b : w) {
            if (b == 0) continue;
            nnz++;
            counts.merge(b, 1, Integer::sum);
        }
        double positions = 0, values = 0;
        for (int i = 0; i < nnz; i++) positions += Math.log((double) (n - i) / (nnz - i)) / Math.log(2);
        for (int c : counts.values()) values -= c * Math.log((double) c / nnz) / Math.log(2);
        double entropy = (positions + values) / nnz, bits = 8.0 * HuffmanStorage.encode(w).length / nnz;
        System.out.printf("300x784 at 5%%, 16 values: %.3f bits a nonzero, entropy %.3f (positions %.3f, values %.3f)%n",
                bits, entropy, positions / nnz, values / nnz);
        assertTrue(bits >= entropy && bits < entropy + 0.25, bits + " bits against entropy " + entropy);
    }

    // ---------------------------------------------------------------- in a model file

    /** lenet-300-100 pruned to about 95% (layer by layer 4%, 6%, 25%) with 16 to 32 shared INT8 values a layer. */
    static QuantizedModel prunedSharedLenet() throws BadInputException {
        Sequential model = ArchSpec.build("lenet-300-100", new int[] {1, 28, 28}, 7);
        Rng rng = new Rng(9);
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        double[] density = {0.04, 0.06, 0.25};
        int[] distinct = {32, 16, 16};
        int k = 0;
        for (int i = 0; i < model.layers().size(); i++) {
            if (!(model.layers().get(i) instanceof Linear lin)) continue;
            Tensor wt = lin.weight().value();
            int rows = wt.dim(0), cols = wt.dim(1);
            byte[] w = sparseInt8(rng, rows * cols, density[k], distinct[k]);
            float[] scales = new float[rows];
            Arrays.fill(scales, 0.01f);
            plans.put(i, new QuantizedModel.LayerPlan(QuantizedWeights.int8(w, rows, cols, Granularity.PER_CHANNEL, scales),
                    ActivationMode.INT8, Quantization.affine(QuantRange.INT8, -1f, 4f)));
            k++;
        }
        return QuantizedModel.build(model, plans);
    }

    private static Tensor batch(int n) {
        Rng rng = new Rng(5);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) x[i] = rng.uniform(-0.5f, 3f);
        return new Tensor(x, n, 1, 28, 28);
    }

    @Test
    void aSavedModelLoadsBitIdentical() throws Exception {
        QuantizedModel q = prunedSharedLenet();
        Path file = dir.resolve("lenet.safetensors");
        long bytes = ModelFile.save(q, file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        for (String w : new String[] {"1.weight", "3.weight", "5.weight"}) {
            assertNull(st.get(w), w);
            assertNotNull(st.get(w + ".huffman"), w);
        }
        assertTrue(st.metadata().get("whittle.sparse").contains("{\"format\":\"huffman\",\"shape\":[300,784]}"), st.metadata().get("whittle.sparse"));
        ModelFile.Loaded back = ModelFile.load(file);
        Tensor x = batch(5);
        assertArrayEquals(q.predict(x).data().clone(), back.model().predict(x).data());
        Path again = dir.resolve("again.safetensors");
        ModelFile.save((QuantizedModel) back.model(), again, Map.of());
        assertArrayEquals(java.nio.file.Files.readAllBytes(file), java.nio.file.Files.readAllBytes(again));
        long nnz = 0, weightBytes = 0;
        for (QuantizedModel.Entry e : q.entries()) {
            if (e.quantized() == null) continue;
            for (byte b : ((dev.whittle.engine.quant.QuantizedLinear) e.quantized()).weights().int8Values()) if (b != 0) nnz++;
        }
        for (String w : new String[] {"1.weight", "3.weight", "5.weight"}) weightBytes += st.get(w + ".huffman").data().length;
        System.out.printf("lenet-300-100 at 95%%: %,d nonzeros, weights %.2f bits a nonzero, whole file %,d bytes (%.2f bits a nonzero)%n",
                nnz, 8.0 * weightBytes / nnz, bytes, 8.0 * bytes / nnz);
    }

    @Test
    void aFloatModelCannotHoldAHuffmanWeightAndEveryEntryNeedsAFormat() throws Exception {
        Path file = dir.resolve("f.safetensors");
        ModelFile.save(SparseStorageTest.sparseModel(0.01), file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        Map<String, String> meta = new LinkedHashMap<>(st.metadata());
        meta.put("whittle.sparse", meta.get("whittle.sparse").replace("\"csr\"", "\"huffman\""));
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, meta, st.tensors());
        expectBad(bad, "1.weight", "huffman");
        meta.put("whittle.sparse", st.metadata().get("whittle.sparse").replace("\"format\":\"csr\",", ""));
        SafeTensors.write(bad, meta, st.tensors());
        expectBad(bad, "1.weight", "format null, expected csr, bitmap or huffman");
    }

    // ---------------------------------------------------------------- corrupt files

    /** The saved lenet with {@code 1.weight.huffman}'s bytes changed. */
    private Path corrupt(UnaryOperator<byte[]> change) throws Exception {
        Path file = dir.resolve("good.safetensors");
        ModelFile.save(prunedSharedLenet(), file, Map.of());
        SafeTensorsFile st = SafeTensors.read(file);
        List<TensorEntry> entries = new ArrayList<>();
        for (TensorEntry e : st.tensors()) {
            if (!e.name().equals("1.weight.huffman")) entries.add(e);
            else {
                byte[] b = change.apply(e.data().clone());
                entries.add(TensorEntry.ofBytes(e.name(), DType.U8, b, b.length));
            }
        }
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, new LinkedHashMap<>(st.metadata()), entries);
        return bad;
    }

    private static void expectBad(Path file, String... mention) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
        for (String m : mention) assertTrue(e.getMessage().contains(m), "'" + m + "' not in: " + e.getMessage());
    }

    /** Offsets of the fields in a coded tensor. */
    private record Header(int codebook, int escape, int gapLengths, int valueLengths, int nnz, int stream) {
        static Header of(byte[] b) {
            int v = b[1] & 0xFF, e = b[2 + v] & 0xFF;
            int gap = 3 + v, value = gap + (e + 2) / 2, nnz = value + (v + 1) / 2;
            return new Header(2, 2 + v, gap, value, nnz, nnz + 4);
        }
    }

    private static int count(byte[] b) {
        int p = Header.of(b).nnz;
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | b[p + 3] << 24;
    }

    private static byte[] withCount(byte[] b, int nnz) {
        int p = Header.of(b).nnz;
        for (int i = 0; i < 4; i++) b[p + i] = (byte) (nnz >>> 8 * i);
        return b;
    }

    @Test
    void aTruncatedStreamIsRefused() throws Exception {
        expectBad(corrupt(b -> Arrays.copyOf(b, b.length - 40)), "1.weight.huffman", "bit stream ends");
        expectBad(corrupt(b -> Arrays.copyOf(b, Header.of(b).nnz + 2)), "1.weight.huffman", "nonzero count");
        expectBad(corrupt(b -> Arrays.copyOf(b, 1)), "1.weight.huffman", "codebook size");
    }

    @Test
    void extraTrailingBytesAreRefused() throws Exception {
        expectBad(corrupt(b -> Arrays.copyOf(b, b.length + 3)), "1.weight.huffman", "3 bytes after its bit stream");
    }

    @Test
    void codeLengthsThatBreakKraftAreRefused() throws Exception {
        // every gap symbol one bit long: far more than one bit's worth of codes
        expectBad(corrupt(b -> {
            Header h = Header.of(b);
            Arrays.fill(b, h.gapLengths, h.valueLengths, (byte) 0x11);
            return b;
        }), "1.weight.huffman", "gap code", "Kraft", "not a prefix code");
        // one value code a bit longer: the code no longer fills its space
        expectBad(corrupt(b -> {
            Header h = Header.of(b);
            int len = b[h.valueLengths] & 15;
            b[h.valueLengths] = (byte) (b[h.valueLengths] & 0xF0 | len + 1);
            return b;
        }), "1.weight.huffman", "value code", "incomplete");
    }

    @Test
    void aLyingNonzeroCountIsRefused() throws Exception {
        expectBad(corrupt(b -> withCount(b, Integer.MAX_VALUE)), "1.weight.huffman", "2147483647 nonzeros for 235200 elements");
        expectBad(corrupt(b -> withCount(b, -1)), "1.weight.huffman", "4294967295 nonzeros");
        // one fewer: the last nonzero's bits are left over
        expectBad(corrupt(b -> withCount(b, count(b) - 1)), "1.weight.huffman", "bit stream");
        // more than the stream holds
        expectBad(corrupt(b -> withCount(b, count(b) + 100)), "1.weight.huffman", "bit stream ends");
    }

    @Test
    void badCodebooksAreRefused() throws Exception {
        expectBad(corrupt(b -> {
            b[Header.of(b).codebook] = Byte.MIN_VALUE;
            return b;
        }), "1.weight.huffman", "codebook entry 0 = -128");
        expectBad(corrupt(b -> {
            Header h = Header.of(b);
            b[h.codebook + 1] = b[h.codebook];
            return b;
        }), "1.weight.huffman", "codebook entry 1", "strictly rising");
        expectBad(corrupt(b -> {
            b[Header.of(b).codebook + 3] = 0;
            return b;
        }), "1.weight.huffman", "codebook entry 3 = 0");
        expectBad(corrupt(b -> {
            b[0] = 2;
            return b;
        }), "1.weight.huffman", "version 2");
    }
}
