package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pruned weights on disk: a weight with enough zeros is stored compressed, in whichever of two
 * layouts is smaller at its density, so the file shrinks with the nonzeros. A quantized INT8
 * weight may also take a third, {@link HuffmanStorage}'s entropy-coded one tensor
 * ({@code "format":"huffman"}), when that is smaller still.
 *
 * <pre>
 *   CSR      name.row_ptr  I32 [rows + 1]       row r's nonzeros are entries row_ptr[r] .. row_ptr[r+1]-1
 *            name.col_idx  I16 | I32 [nnz]      their columns (I16 when the row has at most 32,767 columns)
 *            name.values   F32 [nnz]
 *   bitmap   name.bitmap   U8 [ceil(n / 8)]     bit i (least significant first) set where element i != 0
 *            name.values   F32 [nnz]            the nonzeros in row-major order
 *
 *   whittle.sparse = {"version":1,"tensors":{"1.weight":{"format":"csr","shape":[300,784]}, ...}}
 * </pre>
 *
 * CSR costs about 6 bytes a nonzero, the bitmap 1/8 byte an element plus 4 a nonzero: CSR wins below
 * about 6% density, the bitmap above, and dense storage above about 97%.
 */
final class SparseStorage {

    static final String SPARSE_KEY = "whittle.sparse";
    private static final Set<String> FORMATS = Set.of("csr", "bitmap", HuffmanStorage.FORMAT);

    private SparseStorage() {}

    /** The entries that store {@code values [rows x cols]}: sparse parts when smaller than dense, else one dense F32 entry. */
    static List<TensorEntry> encode(String name, float[] values, int[] shape, Map<String, Object> sparseIndex) {
        int rows = shape[0], n = values.length, cols = n / Math.max(1, rows);
        int nnz = 0;
        for (float v : values) if (v != 0f) nnz++;
        long dense = 4L * n;
        boolean narrow = cols <= Short.MAX_VALUE;
        long csr = 4L * (rows + 1) + (narrow ? 2L : 4L) * nnz + 4L * nnz;
        long bitmap = (n + 7) / 8 + 4L * nnz;
        if (Math.min(csr, bitmap) >= dense || shape.length < 2) return List.of(TensorEntry.ofFloats(name, values, shape));
        return encode(name, values, shape, sparseIndex, csr <= bitmap);
    }

    /** The sparse parts of {@code values} in the layout chosen ({@code csr} or bitmap), F32 values. */
    private static List<TensorEntry> encode(String name, float[] values, int[] shape, Map<String, Object> sparseIndex, boolean useCsr) {
        int rows = shape[0], n = values.length, cols = n / Math.max(1, rows);
        int nnz = 0;
        for (float v : values) if (v != 0f) nnz++;
        boolean narrow = cols <= Short.MAX_VALUE;
        float[] nz = new float[nnz];
        List<TensorEntry> parts = new ArrayList<>();
        Map<String, Object> info = new LinkedHashMap<>();
        if (useCsr) {
            int[] rowPtr = new int[rows + 1];
            int[] col = new int[nnz];
            for (int r = 0, k = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    float v = values[r * cols + c];
                    if (v == 0f) continue;
                    nz[k] = v;
                    col[k++] = c;
                }
                rowPtr[r + 1] = k;
            }
            parts.add(TensorEntry.ofInts(name + ".row_ptr", rowPtr, rows + 1));
            if (narrow) {
                byte[] b = new byte[2 * nnz];
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().put(toShorts(col));
                parts.add(new TensorEntry(name + ".col_idx", DType.I16, new int[] {nnz}, b));
            } else {
                parts.add(TensorEntry.ofInts(name + ".col_idx", col, nnz));
            }
            info.put("format", "csr");
        } else {
            byte[] bits = new byte[(n + 7) / 8];
            for (int i = 0, k = 0; i < n; i++) {
                if (values[i] == 0f) continue;
                bits[i >> 3] |= (byte) (1 << (i & 7));
                nz[k++] = values[i];
            }
            parts.add(TensorEntry.ofBytes(name + ".bitmap", DType.U8, bits, bits.length));
            info.put("format", "bitmap");
        }
        parts.add(TensorEntry.ofFloats(name + ".values", nz, nnz));
        info.put("shape", shape.clone());
        sparseIndex.put(name, info);
        return parts;
    }

    /**
     * The entries that store INT8 values {@code [rows x cols]} (a quantized and pruned weight): the
     * same two layouts with I8 values, or one {@link HuffmanStorage} tensor, whichever is smallest
     * when smaller than the dense I8 tensor. Huffman is taken only when strictly smallest.
     */
    static List<TensorEntry> encodeInt8(String name, byte[] values, int[] shape, Map<String, Object> sparseIndex) {
        int rows = shape[0], n = values.length, cols = n / Math.max(1, rows);
        int nnz = 0;
        for (byte v : values) if (v != 0) nnz++;
        boolean narrow = cols <= Short.MAX_VALUE;
        long csr = 4L * (rows + 1) + (narrow ? 2L : 4L) * nnz + nnz, bitmap = (n + 7) / 8 + (long) nnz;
        if (shape.length < 2) return List.of(TensorEntry.ofBytes(name, DType.I8, values, shape));
        byte[] huffman = HuffmanStorage.encode(values);
        if (huffman.length < Math.min(n, Math.min(csr, bitmap))) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("format", HuffmanStorage.FORMAT);
            info.put("shape", shape.clone());
            sparseIndex.put(name, info);
            return List.of(TensorEntry.ofBytes(name + HuffmanStorage.SUFFIX, DType.U8, huffman, huffman.length));
        }
        if (Math.min(csr, bitmap) >= n) return List.of(TensorEntry.ofBytes(name, DType.I8, values, shape));
        float[] asFloats = new float[n];
        for (int i = 0; i < n; i++) asFloats[i] = values[i];
        Map<String, Object> index = new LinkedHashMap<>();
        List<TensorEntry> parts = new ArrayList<>();
        for (TensorEntry e : encode(name, asFloats, shape, index, csr <= bitmap)) {
            if (!e.name().equals(name + ".values")) {
                parts.add(e);
                continue;
            }
            float[] f = e.toFloats();
            byte[] b = new byte[f.length];
            for (int i = 0; i < f.length; i++) b[i] = (byte) f[i];
            parts.add(TensorEntry.ofBytes(name + ".values", DType.I8, b, b.length));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> info = (Map<String, Object>) index.get(name);
        info.put("dtype", "I8");
        sparseIndex.put(name, info);
        return parts;
    }

    private static short[] toShorts(int[] a) {
        short[] s = new short[a.length];
        for (int i = 0; i < a.length; i++) s[i] = (short) a[i];
        return s;
    }

    /** The sparse tensors a file lists: name to format, checked against nothing yet. */
    static Map<String, String> index(Path file, String json) throws BadInputException {
        Map<String, String> formats = new LinkedHashMap<>();
        if (json == null) return formats;
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (Json.SyntaxException e) {
            throw new BadInputException(file + ": " + SPARSE_KEY + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("tensors") instanceof Map<?, ?> tensors)) {
            throw new BadInputException(file + ": " + SPARSE_KEY + " must be an object with a \"tensors\" object");
        }
        for (Map.Entry<?, ?> e : tensors.entrySet()) {
            if (!(e.getValue() instanceof Map<?, ?> info) || !(info.get("format") instanceof String f && FORMATS.contains(f))) {
                throw new BadInputException(file + ": " + SPARSE_KEY + ": tensor '" + e.getKey() + "' has format "
                        + (e.getValue() instanceof Map<?, ?> m ? m.get("format") : e.getValue()) + ", expected csr, bitmap or huffman");
            }
            formats.put((String) e.getKey(), (String) info.get("format"));
        }
        return formats;
    }

    /**
     * Decodes sparse tensor {@code name} of shape {@code shape} into {@code target} (zeroed first),
     * checking every part; returns the mask of stored entries.
     */
    static boolean[] decode(Path file, SafeTensorsFile st, String name, String format, int[] shape, float[] target, Set<String> used)
            throws BadInputException {
        if (format.equals(HuffmanStorage.FORMAT)) {
            throw new BadInputException(file + ": " + SPARSE_KEY + ": tensor '" + name + "' is huffman-coded, which only an INT8 weight of a quantized model can be");
        }
        int rows = shape[0], n = target.length, cols = n / rows;
        TensorEntry values = part(file, st, name + ".values", used);
        if ((values.dtype() != DType.F32 && values.dtype() != DType.I8) || values.shape().length != 1) {
            throw new BadInputException(file + ": tensor '" + values.name() + "' must be F32 or I8 [nnz], got " + values.dtype() + " " + Arrays.toString(values.shape()));
        }
        float[] nz;
        if (values.dtype() == DType.F32) {
            nz = values.toFiniteFloats(file);
        } else {
            byte[] b = values.data();
            nz = new float[b.length];
            for (int i = 0; i < b.length; i++) nz[i] = b[i];
        }
        if (nz.length > n) throw new BadInputException(file + ": tensor '" + values.name() + "' holds " + nz.length + " values for " + n + " elements");
        Arrays.fill(target, 0f);
        boolean[] keep = new boolean[n];
        if (format.equals("csr")) {
            TensorEntry rp = part(file, st, name + ".row_ptr", used), ci = part(file, st, name + ".col_idx", used);
            if (rp.dtype() != DType.I32 || !Arrays.equals(rp.shape(), new int[] {rows + 1})) {
                throw new BadInputException(file + ": tensor '" + rp.name() + "' must be I32 [" + (rows + 1) + "], got " + rp.dtype() + " " + Arrays.toString(rp.shape()));
            }
            int[] ptr = rp.toInts();
            int[] col = columnIndices(file, ci, nz.length);
            if (ptr[0] != 0 || ptr[rows] != nz.length) {
                throw new BadInputException(file + ": tensor '" + rp.name() + "' must run from 0 to " + nz.length + ", got " + ptr[0] + " .. " + ptr[rows]);
            }
            for (int r = 0; r < rows; r++) {
                if (ptr[r + 1] < ptr[r]) throw new BadInputException(file + ": tensor '" + rp.name() + "' decreases at row " + r);
                for (int k = ptr[r], last = -1; k < ptr[r + 1]; k++) {
                    int c = col[k];
                    if (c <= last || c >= cols) {
                        throw new BadInputException(file + ": tensor '" + ci.name() + "' entry " + k + " = " + c
                                + " (row " + r + "): columns must increase within a row and lie in [0, " + cols + ")");
                    }
                    last = c;
                    target[r * cols + c] = nz[k];
                    keep[r * cols + c] = true;
                }
            }
        } else {
            TensorEntry bm = part(file, st, name + ".bitmap", used);
            if (bm.dtype() != DType.U8 || !Arrays.equals(bm.shape(), new int[] {(n + 7) / 8})) {
                throw new BadInputException(file + ": tensor '" + bm.name() + "' must be U8 [" + (n + 7) / 8 + "], got " + bm.dtype() + " " + Arrays.toString(bm.shape()));
            }
            byte[] bits = bm.data();
            int k = 0;
            for (int i = 0; i < n; i++) {
                if ((bits[i >> 3] >> (i & 7) & 1) == 0) continue;
                if (k == nz.length) throw new BadInputException(file + ": tensor '" + bm.name() + "' marks more entries than the " + nz.length + " values");
                target[i] = nz[k++];
                keep[i] = true;
            }
            if (k != nz.length) throw new BadInputException(file + ": tensor '" + bm.name() + "' marks " + k + " entries but there are " + nz.length + " values");
            for (int i = n; i < bits.length * 8; i++) {
                if ((bits[i >> 3] >> (i & 7) & 1) != 0) throw new BadInputException(file + ": tensor '" + bm.name() + "' has bits set past element " + n);
            }
        }
        return keep;
    }

    private static int[] columnIndices(Path file, TensorEntry ci, int nnz) throws BadInputException {
        if (ci.shape().length != 1 || ci.shape()[0] != nnz) {
            throw new BadInputException(file + ": tensor '" + ci.name() + "' must hold " + nnz + " column indices, got " + Arrays.toString(ci.shape()));
        }
        if (ci.dtype() == DType.I32) return ci.toInts();
        if (ci.dtype() != DType.I16) throw new BadInputException(file + ": tensor '" + ci.name() + "' must be I16 or I32, got " + ci.dtype());
        int[] col = new int[nnz];
        ByteBuffer b = ByteBuffer.wrap(ci.data()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < nnz; i++) col[i] = b.getShort();
        return col;
    }

    private static TensorEntry part(Path file, SafeTensorsFile st, String name, Set<String> used) throws BadInputException {
        TensorEntry e = st.get(name);
        if (e == null) throw new BadInputException(file + ": tensor '" + name + "' is missing (its sparse weight needs it)");
        used.add(name);
        return e;
    }
}
