package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedConv2d;
import dev.whittle.engine.quant.QuantizedLinear;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantParams.Granularity;
import dev.whittle.kernels.QuantRange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a {@link QuantizedModel} is laid out in a model file. The architecture is the float one
 * ({@code whittle.arch}); {@code whittle.quant} says which layers are quantized and how:
 *
 * <pre>
 *   whittle.quant = {"version":1,"layers":[
 *       {"index":1,"bits":8,"weights":"per-channel","activations":"int8"},
 *       {"index":3,"bits":4,"weights":"per-group","group_size":64,"activations":"fp32",
 *        "layout":"int4-low-nibble-first"}]}
 *
 *   tensors of quantized layer i:
 *     i.weight             I8 [out, in(, k, k)]     INT8 values, the float weight's shape; a pruned one
 *                                                   may instead be CSR or bitmap parts (SparseStorage)
 *                                                   or one U8 i.weight.huffman (HuffmanStorage)
 *                          U8 [out, ceil(K / 2)]    INT4: two per byte, even column in the low
 *                                                   nibble (a row of odd K ends in a zero nibble)
 *     i.weight_scale       F32 [1] | [out]          INT8: per tensor, per channel
 *                          F16 | F32 [out, ceil(K / group)]   INT4: per group of columns (the last
 *                                                   group of a row may be partial); F16 when exact
 *     i.bias               F32 [out]                (the int32 bias is derived at load time)
 *     i.input_scale        F32 [1]                  int8 activations only: the calibrated
 *     i.input_zero_point   I32 [1]                  quantization of the layer's input
 * </pre>
 *
 * Layers left in FP32 keep their usual tensors. Everything is checked at load time: a zero,
 * negative or non-finite scale, a zero point outside int8, an INT8 weight of -128, a group size
 * other than 32, 64 or 128 or a scale count that does not match it, an INT4 tensor whose byte
 * count does not match its shape or whose padding nibble is not zero. Rows are stored without the
 * kernels' padding to whole groups: a file holds only real weights.
 */
final class QuantizedModelFile {

    static final String QUANT_KEY = "whittle.quant";
    static final String INT4_LAYOUT = "int4-low-nibble-first";

    private QuantizedModelFile() {}

    /** The metadata entry and the tensors of {@code model}. */
    static List<TensorEntry> tensors(QuantizedModel model, Map<String, String> meta) {
        List<TensorEntry> entries = new ArrayList<>();
        Map<String, Object> sparse = new LinkedHashMap<>();
        List<Object> layers = new ArrayList<>();
        for (QuantizedModel.Entry e : model.entries()) {
            String p = e.index() + ".";
            if (e.quantized() == null) {
                for (Parameter par : e.floatLayer().parameters()) {
                    entries.add(TensorEntry.ofFloats(p + par.localName(), par.value().data(), par.value().shape()));
                }
                for (NamedTensor b : e.floatLayer().buffers()) {
                    entries.add(TensorEntry.ofFloats(p + b.name(), b.tensor().data(), b.tensor().shape()));
                }
                continue;
            }
            QuantizedWeights w;
            float[] bias;
            ActivationMode acts;
            QuantParams input;
            int[] weightShape;
            if (e.quantized() instanceof QuantizedLinear l) {
                w = l.weights();
                bias = l.bias();
                acts = l.activations();
                input = l.inputQuantization();
                weightShape = new int[] {w.rows(), w.cols()};
            } else {
                QuantizedConv2d c = (QuantizedConv2d) e.quantized();
                w = c.weights();
                bias = c.bias();
                acts = c.activations();
                input = c.inputQuantization();
                int k = (int) Math.round(Math.sqrt(w.cols() / (double) c.inputChannels()));
                weightShape = new int[] {w.rows(), c.inputChannels(), k, k};
            }
            Map<String, Object> lj = new LinkedHashMap<>();
            lj.put("index", e.index());
            lj.put("bits", w.bits());
            lj.put("weights", granularityLabel(w.granularity()));
            if (w.bits() == 4) {
                lj.put("group_size", w.groupSize());
                lj.put("layout", INT4_LAYOUT);
            }
            lj.put("activations", acts.label());
            layers.add(lj);
            float[] scales = w.scales();
            if (w.bits() == 8) {
                // a pruned INT8 weight is stored compressed when that is smaller (SparseStorage)
                entries.addAll(SparseStorage.encodeInt8(p + "weight", w.int8Values(), weightShape, sparse));
                entries.add(scaleEntry(p + "weight_scale", scales, scales.length));
            } else {
                int groups = (w.cols() + w.groupSize() - 1) / w.groupSize(), padded = groups * w.groupSize();
                int rowBytes = (w.cols() + 1) / 2;
                byte[] kernelRows = w.packedInt4(), fileRows = new byte[w.rows() * rowBytes];
                for (int r = 0; r < w.rows(); r++) System.arraycopy(kernelRows, r * (padded / 2), fileRows, r * rowBytes, rowBytes);
                entries.add(TensorEntry.ofBytes(p + "weight", DType.U8, fileRows, w.rows(), rowBytes));
                entries.add(scaleEntry(p + "weight_scale", scales, w.rows(), groups));
            }
            entries.add(TensorEntry.ofFloats(p + "bias", bias, bias.length));
            if (input != null) {
                entries.add(TensorEntry.ofFloats(p + "input_scale", input.scales(), 1));
                entries.add(TensorEntry.ofInts(p + "input_zero_point", input.zeroPoints(), 1));
            }
        }
        meta.put(QUANT_KEY, Json.write(Map.of("version", 1, "layers", layers)));
        if (!sparse.isEmpty()) meta.put(SparseStorage.SPARSE_KEY, Json.write(Map.of("version", 1, "tensors", sparse)));
        return entries;
    }

    /**
     * Builds the quantized model described by {@code st} on the float skeleton {@code skeleton}
     * (built from the file's architecture): float layers get their tensors copied in, quantized
     * layers are made from theirs. Every tensor of the file must be used.
     */
    static QuantizedModel load(Path file, SafeTensorsFile st, Sequential skeleton, String quantJson) throws BadInputException {
        Map<Integer, Map<?, ?>> specs = parseLayers(file, quantJson, skeleton);
        Map<String, String> sparse = SparseStorage.index(file, st.metadata().get(SparseStorage.SPARSE_KEY));
        Set<String> used = new java.util.HashSet<>();
        Map<Integer, QuantizedModel.LayerPlan> plans = new HashMap<>();
        List<Layer> layers = skeleton.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Map<?, ?> spec = specs.get(i);
            if (spec == null) {
                for (Parameter p : l.parameters()) copyFloats(file, st, i + "." + p.localName(), p.value().data(), p.value().shape(), used);
                for (NamedTensor b : l.buffers()) copyFloats(file, st, i + "." + b.name(), b.tensor().data(), b.tensor().shape(), used);
                continue;
            }
            plans.put(i, plan(file, st, i, l, spec, sparse, used));
        }
        for (TensorEntry e : st.tensors()) {
            if (!used.contains(e.name())) {
                throw new BadInputException(file + ": tensor '" + e.name() + "' does not belong to the quantized model it describes");
            }
        }
        try {
            return QuantizedModel.build(skeleton, plans);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(file + ": " + QUANT_KEY + ": " + e.getMessage(), e);
        }
    }

    private static Map<Integer, Map<?, ?>> parseLayers(Path file, String quantJson, Sequential skeleton) throws BadInputException {
        Object parsed;
        try {
            parsed = Json.parse(quantJson);
        } catch (Json.SyntaxException e) {
            throw new BadInputException(file + ": " + QUANT_KEY + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("layers") instanceof List<?> list)) {
            throw new BadInputException(file + ": " + QUANT_KEY + " must be an object with a \"layers\" list");
        }
        if (!Integer.valueOf(1).equals(asInt(root.get("version")))) {
            throw new BadInputException(file + ": " + QUANT_KEY + " version " + root.get("version") + " is not supported (expected 1)");
        }
        Map<Integer, Map<?, ?>> specs = new HashMap<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m)) throw new BadInputException(file + ": " + QUANT_KEY + ": a layer entry is not an object");
            Integer index = asInt(m.get("index"));
            if (index == null || index < 0 || index >= skeleton.layers().size()) {
                throw new BadInputException(file + ": " + QUANT_KEY + ": layer index " + m.get("index") + " is not a layer of the architecture");
            }
            Layer l = skeleton.layers().get(index);
            if (!(l instanceof Linear || l instanceof Conv2d)) {
                throw new BadInputException(file + ": " + QUANT_KEY + ": layer " + index + " (" + l.spec() + ") cannot be quantized");
            }
            if (specs.put(index, m) != null) throw new BadInputException(file + ": " + QUANT_KEY + ": layer " + index + " is listed twice");
        }
        return specs;
    }

    private static QuantizedModel.LayerPlan plan(Path file, SafeTensorsFile st, int i, Layer l, Map<?, ?> spec, Map<String, String> sparse,
                                                 Set<String> used)
            throws BadInputException {
        String where = file + ": " + QUANT_KEY + " layer " + i;
        Integer bits = asInt(spec.get("bits"));
        ActivationMode acts = spec.get("activations") instanceof String s ? ActivationMode.ofLabel(s) : null;
        if (acts == null) throw new BadInputException(where + ": \"activations\" is " + spec.get("activations") + ", expected int8, fp32 or int8-dynamic");
        Granularity g = spec.get("weights") instanceof String s ? granularityOf(s) : null;
        if (g == null) throw new BadInputException(where + ": \"weights\" is " + spec.get("weights") + ", expected per-tensor, per-channel or per-group");
        WeightedLayer wl = (WeightedLayer) l;
        int rows = wl.outputChannels(), cols = wl.inputsPerOutput();
        int[] floatShape = wl.weight().value().shape();
        String wName = i + ".weight", sName = i + ".weight_scale";
        TensorEntry se = require(file, st, sName, used);
        String sparseFormat = sparse.get(wName);
        TensorEntry we = sparseFormat != null && bits != null && bits == 8
                ? denseInt8(file, st, wName, sparseFormat, floatShape, used) : require(file, st, wName, used);
        float[] scales = scaleValues(file, se);
        QuantizedWeights weights;
        try {
            if (bits != null && bits == 8) {
                checkTensor(file, we, DType.I8, floatShape);
                checkTensor(file, se, se.dtype() == DType.F16 ? DType.F16 : DType.F32, new int[] {g == Granularity.PER_TENSOR ? 1 : rows});
                weights = QuantizedWeights.int8(we.data(), rows, cols, g, scales);
            } else if (bits != null && bits == 4) {
                Integer group = asInt(spec.get("group_size"));
                if (group == null || (group != 32 && group != 64 && group != 128)) {
                    throw new BadInputException(where + ": \"group_size\" is " + spec.get("group_size") + ", expected 32, 64 or 128");
                }
                if (!INT4_LAYOUT.equals(spec.get("layout"))) {
                    throw new BadInputException(where + ": \"layout\" is " + spec.get("layout") + ", expected " + INT4_LAYOUT);
                }
                int rowBytes = (cols + 1) / 2, groups = (cols + group - 1) / group, padded = groups * group;
                if (we.dtype() != DType.U8 || !Arrays.equals(we.shape(), new int[] {rows, rowBytes})) {
                    throw new BadInputException(file + ": tensor '" + wName + "' is " + we.dtype() + " " + Arrays.toString(we.shape())
                            + ", expected U8 [" + rows + ", " + rowBytes + "] (" + cols + " INT4 values a row, two per byte)");
                }
                if (se.shape().length != 2 || se.shape()[0] != rows || se.shape()[1] != groups) {
                    throw new BadInputException(file + ": tensor '" + sName + "' has shape " + Arrays.toString(se.shape()) + ", but "
                            + cols + " inputs in groups of " + group + " need [" + rows + ", " + groups + "]");
                }
                checkTensor(file, se, se.dtype() == DType.F16 ? DType.F16 : DType.F32, new int[] {rows, groups});
                byte[] fileRows = we.data(), kernelRows = new byte[rows * (padded / 2)];
                for (int r = 0; r < rows; r++) {
                    if (cols % 2 == 1 && (fileRows[r * rowBytes + rowBytes - 1] & 0xF0) != 0) {
                        throw new BadInputException(file + ": tensor '" + wName + "' row " + r + " ends in a nonzero padding nibble");
                    }
                    System.arraycopy(fileRows, r * rowBytes, kernelRows, r * (padded / 2), rowBytes);
                }
                weights = QuantizedWeights.int4Packed(kernelRows, rows, cols, group, scales);
            } else {
                throw new BadInputException(where + ": \"bits\" is " + spec.get("bits") + ", expected 8 or 4");
            }
        } catch (IllegalArgumentException e) {
            throw new BadInputException(file + ": tensor '" + wName + "': " + e.getMessage(), e);
        }
        float[] bias = ((WeightedLayer) l).bias().value().data();
        copyFloats(file, st, i + ".bias", bias, new int[] {rows}, used);
        QuantParams input = null;
        if (acts == ActivationMode.INT8) {
            TensorEntry ise = require(file, st, i + ".input_scale", used), ize = require(file, st, i + ".input_zero_point", used);
            checkTensor(file, ise, DType.F32, new int[] {1});
            checkTensor(file, ize, DType.I32, new int[] {1});
            try {
                input = QuantParams.perTensor(QuantRange.INT8, ise.toFloats()[0], ize.toInts()[0]);
            } catch (IllegalArgumentException e) {
                throw new BadInputException(file + ": tensors '" + i + ".input_scale' / '" + i + ".input_zero_point': " + e.getMessage(), e);
            }
        }
        return new QuantizedModel.LayerPlan(weights, acts, input);
    }

    /** Scales as F16 when every one is exact in it (half the bytes), else F32. */
    private static TensorEntry scaleEntry(String name, float[] scales, int... shape) {
        for (float s : scales) {
            if (Float.float16ToFloat(Float.floatToFloat16(s)) != s) return TensorEntry.ofFloats(name, scales, shape);
        }
        byte[] b = new byte[2 * scales.length];
        for (int i = 0; i < scales.length; i++) {
            short h = Float.floatToFloat16(scales[i]);
            b[2 * i] = (byte) h;
            b[2 * i + 1] = (byte) (h >> 8);
        }
        return new TensorEntry(name, DType.F16, shape, b);
    }

    /** An F32 or F16 tensor's values as floats. */
    private static float[] scaleValues(Path file, TensorEntry e) throws BadInputException {
        if (e.dtype() == DType.F32) return e.toFloats();
        if (e.dtype() != DType.F16) throw new BadInputException(file + ": tensor '" + e.name() + "' has dtype " + e.dtype() + ", expected F32 or F16");
        byte[] b = e.data();
        float[] v = new float[b.length / 2];
        for (int i = 0; i < v.length; i++) v[i] = Float.float16ToFloat((short) ((b[2 * i] & 0xFF) | (b[2 * i + 1] << 8)));
        return v;
    }

    /** A sparse-stored INT8 weight, decoded back into a dense I8 entry. */
    private static TensorEntry denseInt8(Path file, SafeTensorsFile st, String name, String format, int[] shape, Set<String> used)
            throws BadInputException {
        int n = 1;
        for (int d : shape) n *= d;
        if (format.equals(HuffmanStorage.FORMAT)) {
            TensorEntry coded = st.get(name + HuffmanStorage.SUFFIX);
            if (coded == null) throw new BadInputException(file + ": tensor '" + name + HuffmanStorage.SUFFIX + "' is missing (its sparse weight needs it)");
            used.add(coded.name());
            return TensorEntry.ofBytes(name, DType.I8, HuffmanStorage.decode(file, coded, n), shape);
        }
        float[] v = new float[n];
        SparseStorage.decode(file, st, name, format, shape, v, used);
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            if (v[k] != Math.rint(v[k]) || v[k] < -128 || v[k] > 127) {
                throw new BadInputException(file + ": tensor '" + name + ".values' holds " + v[k] + ", not an INT8 value");
            }
            b[k] = (byte) v[k];
        }
        return TensorEntry.ofBytes(name, DType.I8, b, shape);
    }

    private static TensorEntry require(Path file, SafeTensorsFile st, String name, Set<String> used) throws BadInputException {
        TensorEntry e = st.get(name);
        if (e == null) throw new BadInputException(file + ": tensor '" + name + "' is missing (the quantized layer needs it)");
        used.add(name);
        return e;
    }

    private static void checkTensor(Path file, TensorEntry e, DType dtype, int[] shape) throws BadInputException {
        if (e.dtype() != dtype || !Arrays.equals(e.shape(), shape)) {
            throw new BadInputException(file + ": tensor '" + e.name() + "' is " + e.dtype() + " " + Arrays.toString(e.shape())
                    + ", expected " + dtype + " " + Arrays.toString(shape));
        }
    }

    private static void copyFloats(Path file, SafeTensorsFile st, String name, float[] target, int[] shape, Set<String> used)
            throws BadInputException {
        TensorEntry e = require(file, st, name, used);
        checkTensor(file, e, DType.F32, shape);
        float[] v = e.toFiniteFloats(file);
        System.arraycopy(v, 0, target, 0, v.length);
    }

    private static Integer asInt(Object o) {
        if (o instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e9) return n.intValue();
        return null;
    }

    static String granularityLabel(Granularity g) {
        return switch (g) {
            case PER_TENSOR -> "per-tensor";
            case PER_CHANNEL -> "per-channel";
            case PER_GROUP -> "per-group";
        };
    }

    private static Granularity granularityOf(String s) {
        for (Granularity g : Granularity.values()) if (granularityLabel(g).equals(s)) return g;
        return null;
    }
}
