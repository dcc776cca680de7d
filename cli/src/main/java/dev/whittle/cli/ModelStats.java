package dev.whittle.cli;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.nn.Sequential;
import java.util.LinkedHashMap;
import java.util.Map;

/** The figures DESIGN.md's reports share: accuracy, params, nonzeros, and file sizes where a file exists. */
final class ModelStats {

    private ModelStats() {}

    static long nonzeroWeights(Sequential model) {
        long n = 0;
        for (Layer l : model.layers()) {
            for (Parameter p : l.parameters()) {
                if (!p.localName().equals("weight")) continue;
                for (float v : p.value().data()) if (v != 0f) n++;
            }
        }
        return n;
    }

    static Map<String, Object> of(Sequential model, double accuracy, Long fileBytes, Long headerBytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", accuracy);
        if (fileBytes != null) m.put("file_bytes", fileBytes);
        if (headerBytes != null) m.put("header_bytes", headerBytes);
        m.put("params", model.parameterCount());
        m.put("nonzeros", nonzeroWeights(model));
        return m;
    }
}
