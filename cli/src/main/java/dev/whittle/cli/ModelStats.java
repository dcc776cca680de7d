package dev.whittle.cli;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.QuantizedConv2d;
import dev.whittle.engine.quant.QuantizedLinear;
import dev.whittle.engine.quant.QuantizedModel;
import java.util.LinkedHashMap;
import java.util.Map;

/** The figures DESIGN.md's reports share: accuracy, params, nonzeros, and file sizes where a file exists. */
final class ModelStats {

    private ModelStats() {}

    static long nonzeroWeights(Model model) {
        long n = 0;
        if (model instanceof QuantizedModel q) {
            for (QuantizedModel.Entry e : q.entries()) {
                if (e.quantized() instanceof QuantizedLinear l) n += l.weights().nonzeros();
                else if (e.quantized() instanceof QuantizedConv2d c) n += c.weights().nonzeros();
                else if (e.floatLayer() != null) n += nonzeroWeights(e.floatLayer());
            }
            return n;
        }
        for (Layer l : ((Sequential) model).layers()) n += nonzeroWeights(l);
        return n;
    }

    private static long nonzeroWeights(Layer l) {
        long n = 0;
        for (Parameter p : l.parameters()) {
            if (!p.localName().equals("weight")) continue;
            for (float v : p.value().data()) if (v != 0f) n++;
        }
        return n;
    }

    static Map<String, Object> of(Model model, double accuracy, Long fileBytes, Long headerBytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", accuracy);
        if (fileBytes != null) m.put("file_bytes", fileBytes);
        if (headerBytes != null) m.put("header_bytes", headerBytes);
        m.put("params", model.parameterCount());
        m.put("nonzeros", nonzeroWeights(model));
        return m;
    }
}
