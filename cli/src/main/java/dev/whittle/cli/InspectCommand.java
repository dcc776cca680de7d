package dev.whittle.cli;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.io.TensorEntry;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.QuantizedConv2d;
import dev.whittle.engine.quant.QuantizedLayer;
import dev.whittle.engine.quant.QuantizedLinear;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle inspect}: what a model file holds, layer by layer. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model file layer by layer: output shape, parameters, precision (bits, granularity), dtype, bytes and FLOPs.")
final class InspectCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file (.safetensors).")
    Path modelPath;

    @Mixin
    CommonOptions common = new CommonOptions();

    /** One layer of the architecture as stored: its precision and what it takes on disk. */
    private record Row(int index, String spec, int[] outputShape, long params, int bits, String granularity,
                       String activations, long flops, Layer layer) {}

    @Override
    public Integer call() throws Exception {
        common.begin();
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        SafeTensorsFile file = SafeTensors.read(modelPath);
        Model model = loaded.model();
        PrintStream o = System.out;
        o.println("model   " + modelPath + (loaded.quantized() ? "  (quantized)" : ""));
        o.println("arch    " + model.arch());
        var normalization = dev.whittle.engine.io.InputNormalization.of(loaded.metadata(), modelPath);
        o.println("input   " + Arrays.toString(model.inputShape())
                + (normalization.isPresent() ? ", normalised " + normalization.get().toJson() : ", normalisation not recorded"));
        o.println();
        o.printf("%-3s %-18s %-14s %12s %-4s %-12s %-10s %-8s %12s %14s  %s%n", "#", "layer", "output", "params", "bits", "granularity",
                "dtype", "stored", "bytes", "FLOPs", "runs");
        List<Object> layersJson = new ArrayList<>();
        long totalBytes = 0;
        for (Row row : rows(model)) {
            long bytes = 0;
            Set<String> dtypes = new LinkedHashSet<>();
            for (TensorEntry e : file.tensors()) {
                if (!e.name().startsWith(row.index() + ".")) continue;
                bytes += e.data().length;
                dtypes.add(e.dtype().name());
            }
            totalBytes += bytes;
            String dtype = dtypes.isEmpty() ? "-" : String.join("+", dtypes);
            // dense, or the sparse layout the file chose for the weight (csr, bitmap, huffman)
            String stored = row.params() > 0 ? ModelFile.storedFormat(file, row.index() + ".weight") : "-";
            String shape = Arrays.toString(row.outputShape()).replace(" ", "");
            String runs = "";
            if (row.layer() instanceof Linear lin) {
                String one = lin.executionAt(1), many = lin.executionAt(64);
                runs = one.startsWith("sparse") ? String.format(Locale.ROOT, "sparse (density %.3f)", lin.density())
                        : many.startsWith("sparse") ? String.format(Locale.ROOT, "sparse when batched (density %.3f)", lin.density())
                        : lin.density() < 1 ? String.format(Locale.ROOT, "dense (density %.3f)", lin.density()) : "dense";
            } else if (row.layer() != null && row.params() > 0) {
                runs = "dense";
            } else if (row.layer() == null) {
                runs = "integer kernels";
            }
            o.printf(Locale.ROOT, "%-3d %-18s %-14s %,12d %-4s %-12s %-10s %-8s %,12d %,14d  %s%n", row.index(), row.spec(), shape,
                    row.params(), row.bits() == 0 ? "-" : Integer.toString(row.bits()), row.granularity(), dtype, stored, bytes, row.flops(), runs);
            Map<String, Object> lj = new LinkedHashMap<>();
            lj.put("index", row.index());
            lj.put("layer", row.spec());
            lj.put("output_shape", row.outputShape());
            lj.put("params", row.params());
            if (row.bits() != 0) {
                lj.put("bits", row.bits());
                lj.put("granularity", row.granularity());
                lj.put("activations", row.activations());
            }
            lj.put("dtype", dtype);
            lj.put("stored", stored);
            lj.put("bytes", bytes);
            lj.put("flops", row.flops());
            if (row.layer() instanceof Linear lin) {
                lj.put("density", lin.density());
                lj.put("execution_batch1", lin.executionAt(1));
                lj.put("execution_batched", lin.executionAt(64));
            }
            layersJson.add(lj);
        }
        o.printf(Locale.ROOT, "%-3s %-18s %-14s %,12d %-4s %-12s %-10s %-8s %,12d %,14d%n", "", "total", "", model.parameterCount(), "", "", "",
                "", totalBytes, model.flops());
        if (loaded.quantized()) {
            o.printf(Locale.ROOT, "(an INT8 Linear runs on the sparse kernels below density %.2f at batch 1 and %.2f batched, a stride-1 INT8"
                    + " convolution over its nonzero taps: break-evens measured by bench)%n",
                    dev.whittle.engine.quant.QuantizedLinear.SPARSE_DENSITY_BATCH_1, dev.whittle.engine.quant.QuantizedLinear.SPARSE_DENSITY_BATCHED);
        } else {
            o.printf(Locale.ROOT, "(a Linear runs on the sparse kernels below density %.2f at batch 1 and %.2f batched: break-evens measured by bench)%n",
                    dev.whittle.kernels.SparseKernels.BREAK_EVEN_DENSITY_GEMV, dev.whittle.kernels.SparseKernels.BREAK_EVEN_DENSITY_GEMM);
        }
        o.println();
        o.printf(Locale.ROOT, "file    %,d bytes (header %,d bytes, tensors %,d bytes)%n", loaded.fileBytes(), loaded.headerBytes(), totalBytes);
        for (Map.Entry<String, String> e : loaded.metadata().entrySet()) {
            if (e.getKey().equals(ModelFile.ARCH_KEY)) continue;
            o.println(String.format("%-18s %s", e.getKey(), e.getValue()));
        }
        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "inspect");
            r.put("settings", Map.of("model", modelPath.toString()));
            r.put("arch", model.arch());
            r.put("quantized", loaded.quantized());
            r.put("params", model.parameterCount());
            r.put("nonzeros", ModelStats.nonzeroWeights(model));
            r.put("file_bytes", loaded.fileBytes());
            r.put("header_bytes", loaded.headerBytes());
            r.put("flops", model.flops());
            r.put("layers", layersJson);
            r.put("metadata", loaded.metadata());
            Reports.write(common.report, r);
        }
        return 0;
    }

    private static List<Row> rows(Model model) {
        List<Row> rows = new ArrayList<>();
        if (model instanceof Sequential s) {
            for (int i = 0; i < s.layers().size(); i++) {
                Layer l = s.layers().get(i);
                long params = floatParams(l);
                rows.add(new Row(i, l.spec(), l.outputShape(), params, params > 0 ? 32 : 0, params > 0 ? "-" : "", "fp32", l.flops(), l));
            }
            return rows;
        }
        for (QuantizedModel.Entry e : ((QuantizedModel) model).entries()) {
            QuantizedLayer q = e.quantized();
            if (q == null) {
                Layer l = e.floatLayer();
                long params = floatParams(l);
                rows.add(new Row(e.index(), l.spec(), l.outputShape(), params, params > 0 ? 32 : 0, params > 0 ? "-" : "", "fp32", l.flops(), l));
                continue;
            }
            QuantizedWeights w = q instanceof QuantizedLinear l ? l.weights() : ((QuantizedConv2d) q).weights();
            String acts = q instanceof QuantizedLinear l ? l.activations().label() : ((QuantizedConv2d) q).activations().label();
            String g = switch (w.granularity()) {
                case PER_TENSOR -> "tensor";
                case PER_CHANNEL -> "channel";
                case PER_GROUP -> "group " + w.groupSize();
            };
            // a convolution that pools in place still shows its own output, as the FP32 file does
            int[] shape = q instanceof QuantizedConv2d c ? c.convolutionShape() : q.outputShape();
            rows.add(new Row(e.index(), e.spec(), shape, (long) w.rows() * w.cols() + w.rows(), w.bits(), g, acts, q.flops(), null));
        }
        return rows;
    }

    private static long floatParams(Layer l) {
        long n = 0;
        for (Parameter p : l.parameters()) n += p.value().size();
        return n;
    }
}
