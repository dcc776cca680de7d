package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Model;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.QuantizedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A whittle model as one safetensors file: the state dict as tensors, and in
 * {@code __metadata__} the architecture spec ({@code whittle.arch}) and per-sample input shape
 * ({@code whittle.input_shape}) that rebuild the layers, plus whatever the caller records (the
 * recipe, metrics). Loading rebuilds the model from the spec and checks that every tensor is there
 * with the expected dtype and shape, and that the file holds nothing else.
 */
public final class ModelFile {

    public static final String ARCH_KEY = "whittle.arch";
    public static final String INPUT_SHAPE_KEY = "whittle.input_shape";

    /** A model read back (a {@link Sequential}, or a {@link QuantizedModel}), with its file's metadata and sizes. */
    public record Loaded(Model model, Map<String, String> metadata, long fileBytes, long headerBytes) {

        /** Whether the file holds a quantized model. */
        public boolean quantized() {
            return model instanceof QuantizedModel;
        }

        /** The FP32 model; a quantized file is bad input where an FP32 one is needed (to train, prune...). */
        public Sequential floatModel(Path file) throws BadInputException {
            if (model instanceof Sequential s) return s;
            throw new BadInputException(file + ": holds a quantized model (" + QuantizedModelFile.QUANT_KEY
                    + " is set); this command needs an FP32 model");
        }
    }

    private ModelFile() {}

    /** Writes {@code model} atomically to {@code file}; returns the file's size in bytes. */
    public static long save(Sequential model, Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(ARCH_KEY, model.arch());
        meta.put(INPUT_SHAPE_KEY, joinShape(model.inputShape()));
        List<TensorEntry> entries = new ArrayList<>();
        Map<String, Object> sparse = new LinkedHashMap<>();
        for (NamedTensor t : model.stateDict()) {
            if (t.name().endsWith(".weight") && t.tensor().rank() >= 2) {
                // a pruned weight goes compressed when that is smaller (SparseStorage)
                entries.addAll(SparseStorage.encode(t.name(), t.tensor().data(), t.tensor().shape(), sparse));
            } else {
                entries.add(TensorEntry.ofFloats(t.name(), t.tensor().data(), t.tensor().shape()));
            }
        }
        if (!sparse.isEmpty()) meta.put(SparseStorage.SPARSE_KEY, Json.write(Map.of("version", 1, "tensors", sparse)));
        SafeTensors.write(file, meta, entries);
        return Files.size(file);
    }

    /** Writes a quantized model atomically to {@code file} (layout: {@link QuantizedModelFile}); returns its size. */
    public static long save(QuantizedModel model, Path file, Map<String, String> extraMetadata) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(ARCH_KEY, model.arch());
        meta.put(INPUT_SHAPE_KEY, joinShape(model.inputShape()));
        List<TensorEntry> entries = QuantizedModelFile.tensors(model, meta);
        SafeTensors.write(file, meta, entries);
        return Files.size(file);
    }

    /** Reads a model file, validating the container and then the model it describes. */
    public static Loaded load(Path file) throws IOException, BadInputException {
        SafeTensorsFile st = SafeTensors.read(file);
        Map<String, String> meta = st.metadata();
        String arch = meta.get(ARCH_KEY);
        if (arch == null) throw new BadInputException(file + ": __metadata__ has no " + ARCH_KEY + "; not a whittle model file");
        int[] inputShape = parseShape(file, meta.get(INPUT_SHAPE_KEY));
        Sequential model;
        try {
            // a spec may not ask for more values than the data section could hold (INT4 packs two
            // to a byte), so a small corrupt file cannot make us allocate gigabytes
            long dataBytes = st.fileBytes() - 8 - st.headerBytes();
            long budget = 2 * dataBytes + 64;
            // a sparse weight describes many zeros in few bytes: allow up to 64 values a byte,
            // and 16 M values (64 MB) whatever the size, enough for a 99%-sparse small model
            if (meta.containsKey(SparseStorage.SPARSE_KEY)) budget = 64 * dataBytes + (1L << 24);
            model = ArchSpec.build(arch, inputShape, 0L, budget);
        } catch (BadInputException e) {
            throw new BadInputException(file + ": " + ARCH_KEY + " \"" + arch + "\": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            // the header asks for tensors larger than Java can index: a corrupt or hostile file
            throw new BadInputException(file + ": " + ARCH_KEY + " \"" + arch + "\" on input " + Arrays.toString(inputShape)
                    + " cannot be built: " + e.getMessage(), e);
        }
        String quant = meta.get(QuantizedModelFile.QUANT_KEY);
        if (quant != null) {
            QuantizedModel q = QuantizedModelFile.load(file, st, model, quant);
            return new Loaded(q, meta, st.fileBytes(), st.headerBytes());
        }
        Set<String> expected = new HashSet<>();
        Map<String, String> sparse = SparseStorage.index(file, meta.get(SparseStorage.SPARSE_KEY));
        Map<String, Parameter> params = new HashMap<>();
        for (int i = 0; i < model.layers().size(); i++) {
            for (Parameter p : model.layers().get(i).parameters()) params.put(i + "." + p.localName(), p);
        }
        for (String name : sparse.keySet()) {
            if (!params.containsKey(name) || params.get(name).value().rank() < 2) {
                throw new BadInputException(file + ": " + SparseStorage.SPARSE_KEY + " lists '" + name + "', which is not a weight of the architecture");
            }
        }
        for (NamedTensor t : model.stateDict()) {
            String format = sparse.get(t.name());
            if (format != null) {
                // stored compressed: the nonzeros become the weight's pruning mask, so fine-tuning keeps the zeros
                boolean[] keep = SparseStorage.decode(file, st, t.name(), format, t.tensor().shape(), t.tensor().data(), expected);
                params.get(t.name()).setMask(keep);
                continue;
            }
            expected.add(t.name());
            TensorEntry e = st.get(t.name());
            if (e == null) throw new BadInputException(file + ": tensor '" + t.name() + "' is missing (the architecture needs it)");
            Tensor target = t.tensor();
            if (e.dtype() != DType.F32) {
                throw new BadInputException(file + ": tensor '" + t.name() + "' has dtype " + e.dtype() + ", expected F32");
            }
            if (!Arrays.equals(e.shape(), target.shape())) {
                throw new BadInputException(file + ": tensor '" + t.name() + "' has shape " + Arrays.toString(e.shape())
                        + ", the architecture needs " + Arrays.toString(target.shape()));
            }
            float[] values = e.toFiniteFloats(file);
            System.arraycopy(values, 0, target.data(), 0, values.length);
        }
        for (TensorEntry e : st.tensors()) {
            if (!expected.contains(e.name())) {
                throw new BadInputException(file + ": tensor '" + e.name() + "' does not belong to architecture \"" + arch + "\"");
            }
        }
        return new Loaded(model, meta, st.fileBytes(), st.headerBytes());
    }

    /**
     * How weight {@code name} (e.g. {@code "1.weight"}) is stored in {@code file}: {@code dense},
     * one of the sparse layouts ({@code csr}, {@code bitmap}, {@code huffman}), or {@code -} when
     * the file does not hold it.
     */
    public static String storedFormat(SafeTensorsFile file, String name) {
        if (file.get(name) != null) return "dense";
        if (file.get(name + HuffmanStorage.SUFFIX) != null) return HuffmanStorage.FORMAT;
        if (file.get(name + ".col_idx") != null) return "csr";
        if (file.get(name + ".bitmap") != null) return "bitmap";
        return "-";
    }

    static String joinShape(int[] shape) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(shape[i]);
        }
        return sb.toString();
    }

    private static int[] parseShape(Path file, String text) throws BadInputException {
        if (text == null || text.isBlank()) throw new BadInputException(file + ": __metadata__ has no " + INPUT_SHAPE_KEY);
        String[] parts = text.split(",");
        if (parts.length > 8) throw new BadInputException(file + ": " + INPUT_SHAPE_KEY + " \"" + text + "\" has more than 8 dimensions");
        int[] shape = new int[parts.length];
        double size = 1;
        for (int i = 0; i < parts.length; i++) {
            try {
                shape[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                shape[i] = -1;
            }
            if (shape[i] < 1 || shape[i] > 1 << 20) {
                throw new BadInputException(file + ": " + INPUT_SHAPE_KEY + " \"" + text + "\" is not a list of positive sizes");
            }
            size *= shape[i];
        }
        if (size > 1 << 28) throw new BadInputException(file + ": " + INPUT_SHAPE_KEY + " \"" + text + "\" is too large for one sample");
        return shape;
    }
}
