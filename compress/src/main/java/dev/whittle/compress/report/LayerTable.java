package dev.whittle.compress.report;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Model;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.io.SafeTensorsFile;
import dev.whittle.engine.io.TensorEntry;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import dev.whittle.engine.quant.QuantizedConv2d;
import dev.whittle.engine.quant.QuantizedLinear;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The weighted layers of a model (FP32 or quantized) as a report lists them, with what its file spends on each. */
public final class LayerTable {

    /** More distinct values than this and a layer is not called weight-shared. */
    private static final int MAX_SHARED_VALUES = 256;

    private LayerTable() {}

    /** Nonzero weights (biases excluded) over the model's Linear and Conv2d layers, integer or float. */
    public static long nonzeroWeights(Model model) {
        long n = 0;
        if (model instanceof QuantizedModel q) {
            for (QuantizedModel.Entry e : q.entries()) {
                QuantizedWeights w = weightsOf(e);
                if (w != null) n += w.nonzeros();
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

    /** One row per weighted layer of {@code model}; {@code file} is the model's saved file (for formats and bytes). */
    public static List<LayerRow> rows(Model model, SafeTensorsFile file) {
        List<LayerRow> rows = new ArrayList<>();
        if (model instanceof QuantizedModel q) {
            for (QuantizedModel.Entry e : q.entries()) {
                QuantizedWeights w = weightsOf(e);
                if (w != null) {
                    int[] shape = {w.rows(), w.cols()};
                    int clusters = w.bits() == 8 ? distinctNonzero(w.int8Values()) : 0;
                    double sparsity = 1 - (double) w.nonzeros() / ((long) w.rows() * w.cols());
                    rows.add(new LayerRow(e.index(), e.spec(), shape, w.bits(), clusters, sparsity, ModelFile.storedFormat(file, e.index() + ".weight"), bytes(file, e.index())));
                } else if (e.floatLayer() instanceof WeightedLayer wl) {
                    rows.add(floatRow(e.index(), e.floatLayer(), wl, file));
                }
            }
            return rows;
        }
        List<Layer> layers = ((Sequential) model).layers();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof WeightedLayer wl) rows.add(floatRow(i, layers.get(i), wl, file));
        }
        return rows;
    }

    private static LayerRow floatRow(int index, Layer l, WeightedLayer wl, SafeTensorsFile file) {
        float[] w = wl.weight().value().data();
        long zeros = 0;
        Set<Float> distinct = new HashSet<>();
        for (float v : w) {
            if (v == 0f) zeros++;
            else if (distinct.size() <= MAX_SHARED_VALUES) distinct.add(v);
        }
        int clusters = distinct.size() <= MAX_SHARED_VALUES ? distinct.size() : 0;
        return new LayerRow(index, l.spec(), wl.weight().value().shape(), 32, clusters, w.length == 0 ? 0 : (double) zeros / w.length,
                ModelFile.storedFormat(file, index + ".weight"), bytes(file, index));
    }

    private static QuantizedWeights weightsOf(QuantizedModel.Entry e) {
        if (e.quantized() instanceof QuantizedLinear l) return l.weights();
        if (e.quantized() instanceof QuantizedConv2d c) return c.weights();
        return null;
    }

    private static int distinctNonzero(byte[] values) {
        boolean[] seen = new boolean[256];
        int n = 0;
        for (byte b : values) {
            if (b != 0 && !seen[b & 0xFF]) {
                seen[b & 0xFF] = true;
                n++;
            }
        }
        return n;
    }

    /** Bytes of the data section taken by layer {@code index}'s tensors. */
    static long bytes(SafeTensorsFile file, int index) {
        String prefix = index + ".";
        long n = 0;
        for (TensorEntry t : file.tensors()) if (t.name().startsWith(prefix)) n += t.data().length;
        return n;
    }
}
