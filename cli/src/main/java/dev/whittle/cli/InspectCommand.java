package dev.whittle.cli;

import dev.whittle.engine.Layer;
import dev.whittle.engine.NamedTensor;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensors;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.io.TensorEntry;
import dev.whittle.engine.nn.Sequential;
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
        description = "Show a model file layer by layer: output shape, parameters, dtype, bytes and FLOPs.")
final class InspectCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file (.safetensors).")
    Path modelPath;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        common.begin();
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        SafeTensorsFile file = SafeTensors.read(modelPath);
        Sequential model = loaded.model();
        PrintStream o = System.out;
        o.println("model   " + modelPath);
        o.println("arch    " + model.arch());
        o.println("input   " + Arrays.toString(model.inputShape()));
        o.println();
        o.printf("%-3s %-18s %-14s %12s %-6s %12s %14s%n", "#", "layer", "output", "params", "dtype", "bytes", "FLOPs");
        List<Object> layersJson = new ArrayList<>();
        long totalBytes = 0;
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            long params = 0;
            for (Parameter p : l.parameters()) params += p.value().size();
            long bytes = 0;
            Set<String> dtypes = new LinkedHashSet<>();
            List<String> names = new ArrayList<>();
            for (Parameter p : l.parameters()) names.add(i + "." + p.localName());
            for (NamedTensor b : l.buffers()) names.add(i + "." + b.name());
            for (String n : names) {
                TensorEntry e = file.get(n);
                bytes += e.data().length;
                dtypes.add(e.dtype().name());
            }
            totalBytes += bytes;
            String dtype = dtypes.isEmpty() ? "-" : String.join("+", dtypes);
            String shape = Arrays.toString(l.outputShape()).replace(" ", "");
            o.printf(Locale.ROOT, "%-3d %-18s %-14s %,12d %-6s %,12d %,14d%n", i, l.spec(), shape, params, dtype, bytes, l.flops());
            Map<String, Object> lj = new LinkedHashMap<>();
            lj.put("index", i);
            lj.put("layer", l.spec());
            lj.put("output_shape", l.outputShape());
            lj.put("params", params);
            lj.put("dtype", dtype);
            lj.put("bytes", bytes);
            lj.put("flops", l.flops());
            layersJson.add(lj);
        }
        o.printf(Locale.ROOT, "%-3s %-18s %-14s %,12d %-6s %,12d %,14d%n", "", "total", "", model.parameterCount(), "",
                totalBytes, model.flops());
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
}
