package dev.whittle.compress.prune;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.ArchSpec;
import dev.whittle.engine.nn.BatchNorm;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.nn.WeightedLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured pruning that really shrinks the model: whole neurons of a Linear and whole filters of
 * a Conv2d are ranked (L1 or L2 norm of their weights, Li et al. 2017; or |gamma| of the batch norm
 * that follows, Liu et al. 2017, "network slimming"), the weakest are removed, and the model is
 * rebuilt smaller: the layer gets fewer outputs, the batch norm after it fewer channels, and the
 * next weighted layer fewer inputs (through a flatten, each removed channel takes its block of
 * {@code h * w} features with it). The last weighted layer (the classes) is never pruned.
 *
 * <p>Every time, the rebuilt model is checked against the original with the same units masked to 0
 * on real inputs: they must agree to 1e-5.
 */
public final class StructuredPruning {

    /** How units are ranked: the smallest score goes first. */
    public enum Criterion { L1, L2, BN_GAMMA }

    /** What a structured pruning did. */
    public record Result(Sequential model, Map<Integer, int[]> kept, int unitsBefore, int unitsAfter, double checkedDifference) {

        /** The fraction of neurons and filters removed. */
        public double unitsRemoved() {
            return unitsBefore == 0 ? 0 : 1.0 - (double) unitsAfter / unitsBefore;
        }
    }

    private StructuredPruning() {}

    /**
     * Removes a fraction {@code fraction} of the units (rounded, at least one kept) of every
     * Linear and Conv2d but the last, and returns the rebuilt model, checked on {@code check}
     * ({@code [n, input...]}, real samples).
     */
    public static Result prune(Sequential model, double fraction, Criterion criterion, Tensor check) throws BadInputException {
        if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("fraction must be in [0, 1), got " + fraction);
        List<Layer> layers = model.layers();
        List<PrunableWeights> weighted = PrunableWeights.of(model);
        Map<Integer, int[]> kept = new LinkedHashMap<>();
        int before = 0, after = 0;
        for (int w = 0; w < weighted.size() - 1; w++) {
            PrunableWeights p = weighted.get(w);
            int rows = p.rows(), keep = Math.max(1, rows - (int) Math.round(fraction * rows));
            kept.put(p.index(), strongest(p, scores(layers, p, criterion), keep));
            before += rows;
            after += keep;
        }
        Sequential rebuilt = rebuild(model, kept);
        Sequential masked = masked(model, kept);
        double diff = 0;
        if (check != null) {
            float[] a = masked.forward(check, false).data().clone(), b = rebuilt.forward(check, false).data();
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i]));
                diff = Math.max(diff, d);
            }
            if (!(diff <= 1e-5)) {
                throw new IllegalStateException("the rebuilt model differs from the masked one by " + diff + " on real inputs");
            }
        }
        return new Result(rebuilt, kept, before, after, diff);
    }

    /** A unit's score: the norm of its weights, or |gamma| of the batch norm right after. */
    static double[] scores(List<Layer> layers, PrunableWeights p, Criterion criterion) {
        int rows = p.rows(), cols = p.cols();
        double[] s = new double[rows];
        if (criterion == Criterion.BN_GAMMA) {
            if (p.index() + 1 < layers.size() && layers.get(p.index() + 1) instanceof BatchNorm bn) {
                float[] g = bn.weight().value().data();
                for (int r = 0; r < rows; r++) s[r] = Math.abs(g[r]);
                return s;
            }
            criterion = Criterion.L1;   // no batch norm after this layer: rank by its weights
        }
        float[] w = p.weight().value().data();
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int c = 0; c < cols; c++) {
                double v = w[r * cols + c];
                acc += criterion == Criterion.L1 ? Math.abs(v) : v * v;
            }
            s[r] = acc;
        }
        return s;
    }

    /** The {@code keep} highest-scoring units, in increasing index order (the lower index wins a tie). */
    private static int[] strongest(PrunableWeights p, double[] score, int keep) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int c = Double.compare(score[b], score[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] k = new int[keep];
        for (int i = 0; i < keep; i++) k[i] = order[i];
        Arrays.sort(k);
        return k;
    }

    /** The model rebuilt with only the kept units. */
    static Sequential rebuild(Sequential model, Map<Integer, int[]> kept) throws BadInputException {
        List<Layer> layers = model.layers();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            int[] k = kept.get(i);
            if (k != null && l instanceof Linear) tokens.add("linear(" + k.length + ")");
            else if (k != null && l instanceof Conv2d c) {
                tokens.add("conv(" + k.length + "," + c.kernelSize() + (c.stride() != 1 ? ",stride=" + c.stride() : "")
                        + (c.padding() != 0 ? ",pad=" + c.padding() : "") + ")");
            } else tokens.add(l.spec());
        }
        Sequential small = ArchSpec.build(String.join(" ", tokens), model.inputShape(), 0L);
        // the surviving units of the last weighted layer (null: it kept all), and its unit count
        int[] previous = null;
        int previousRows = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer from = layers.get(i), to = small.layers().get(i);
            if (from instanceof Linear || from instanceof Conv2d) {
                Tensor w = ((WeightedLayer) from).weight().value();
                int outs = w.dim(0), cols = w.size() / outs;
                int[] rows = kept.get(i) != null ? kept.get(i) : identity(outs);
                // unit u of the layer before feeds inputs [u*per, (u+1)*per): its k*k taps, its
                // h*w pixels through a flatten, or one feature
                int[] inputs = previous == null ? identity(cols) : expand(previous, cols / previousRows);
                copyRows(w.data(), cols, rows, inputs, ((WeightedLayer) to).weight().value().data());
                float[] b = ((WeightedLayer) from).bias().value().data(), nb = ((WeightedLayer) to).bias().value().data();
                for (int j = 0; j < rows.length; j++) nb[j] = b[rows[j]];
                previous = kept.get(i);
                previousRows = outs;
            } else if (from instanceof BatchNorm bn && previous != null) {
                copyChannels(bn, (BatchNorm) to, previous);
            } else {
                Sequential.copyState(from, to);
            }
        }
        return small;
    }

    /** {@code units} each standing for {@code per} consecutive inputs: unit u covers {@code [u*per, (u+1)*per)}. */
    private static int[] expand(int[] units, int per) {
        int[] cols = new int[units.length * per];
        for (int i = 0; i < units.length; i++) for (int j = 0; j < per; j++) cols[i * per + j] = units[i] * per + j;
        return cols;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    private static void copyRows(float[] src, int srcCols, int[] rows, int[] cols, float[] dst) {
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols.length; c++) dst[r * cols.length + c] = src[rows[r] * srcCols + cols[c]];
        }
    }

    private static void copyChannels(BatchNorm from, BatchNorm to, int[] channels) {
        float[][] src = {from.weight().value().data(), from.bias().value().data(), from.runningMean().data(), from.runningVar().data()};
        float[][] dst = {to.weight().value().data(), to.bias().value().data(), to.runningMean().data(), to.runningVar().data()};
        for (int t = 0; t < src.length; t++) for (int j = 0; j < channels.length; j++) dst[t][j] = src[t][channels[j]];
    }

    /** A copy of the model with the removed units' weights, biases and batch-norm affine set to 0. */
    static Sequential masked(Sequential model, Map<Integer, int[]> kept) throws BadInputException {
        Sequential m = model.copy();
        for (Map.Entry<Integer, int[]> e : kept.entrySet()) {
            Layer l = m.layers().get(e.getKey());
            Tensor w = ((WeightedLayer) l).weight().value();
            int rows = w.dim(0), cols = w.size() / rows;
            boolean[] keep = new boolean[rows];
            for (int r : e.getValue()) keep[r] = true;
            float[] b = ((WeightedLayer) l).bias().value().data();
            for (int r = 0; r < rows; r++) {
                if (keep[r]) continue;
                Arrays.fill(w.data(), r * cols, (r + 1) * cols, 0f);
                b[r] = 0f;
            }
            // a batch norm on these channels (before the next weighted layer) would turn the 0 into beta
            for (int j = e.getKey() + 1; j < m.layers().size(); j++) {
                Layer after = m.layers().get(j);
                if (after instanceof Linear || after instanceof Conv2d) break;
                if (!(after instanceof BatchNorm bn)) continue;
                for (int r = 0; r < rows; r++) {
                    if (keep[r]) continue;
                    bn.weight().value().data()[r] = 0f;
                    bn.bias().value().data()[r] = 0f;
                }
            }
        }
        return m;
    }
}
