package dev.whittle.compress.report;

import java.util.List;

/**
 * Chart of each layer's sparsity and bits per stored weight, one row per layer, for the last step
 * of a run and, when its layers line up with the last step's, the first step beside it as a pale
 * bar; to the right, the shared-value count, the storage format and the bytes in the file.
 */
final class LayerChart {

    private static final double MARGIN = 16, GAP = 28;
    private static final double SPARSITY_WIDTH = 340, BITS_WIDTH = 160, BITS_LABEL = 40;
    private static final double TOP = 58, AXIS_ROOM = 30;
    private static final int MAX_LABEL_CHARS = 30;
    private static final String DETAIL_TITLE = "Clusters · format · bytes";

    private LayerChart() {}

    /** The chart of {@code last}'s layers, compared with {@code first}'s when they match layer for layer. */
    static String svg(StepMetrics first, StepMetrics last) {
        List<LayerRow> rows = last.layers();
        boolean compare = first != last && lineUp(first.layers(), rows);
        double rowHeight = compare ? 40 : 28;
        double labelWidth = 0, detailWidth = 0;
        for (LayerRow r : rows) {
            labelWidth = Math.max(labelWidth, Svg.textWidth(label(r)));
            detailWidth = Math.max(detailWidth, Svg.textWidth(detail(r)));
        }
        double sparsityX = MARGIN + labelWidth + GAP / 2;
        double bitsX = sparsityX + SPARSITY_WIDTH + GAP + 30;
        double detailX = bitsX + BITS_WIDTH + BITS_LABEL + GAP / 2;
        double width = detailX + Math.max(detailWidth, Svg.textWidth(DETAIL_TITLE) * 1.1) + MARGIN; // the title is bold
        double bottom = TOP + rows.size() * rowHeight;
        Svg svg = new Svg(width, bottom + AXIS_ROOM, "Sparsity and bits per weight of each layer");

        Scale sparsity = new Scale(0, 100, sparsityX, sparsityX + SPARSITY_WIDTH, false, List.of(0.0, 25.0, 50.0, 75.0, 100.0));
        Scale bits = new Scale(0, 32, bitsX, bitsX + BITS_WIDTH, false, List.of(0.0, 8.0, 16.0, 24.0, 32.0));
        legend(svg, sparsityX, compare ? first.name() : null, last.name());
        svg.text(sparsityX, TOP - 10, "start", "panel-title", "Sparsity (% zero weights)");
        svg.text(bitsX, TOP - 10, "start", "panel-title", "Bits per stored weight");
        svg.text(detailX, TOP - 10, "start", "panel-title", DETAIL_TITLE);
        axis(svg, sparsity, bottom, "%");
        axis(svg, bits, bottom, "");

        for (int i = 0; i < rows.size(); i++) {
            LayerRow r = rows.get(i);
            LayerRow before = compare ? first.layers().get(i) : null;
            double top = TOP + i * rowHeight;
            double mid = top + rowHeight / 2;
            svg.text(MARGIN, mid + 4, "start", "layer-label", label(r));
            bars(svg, sparsity, top, compare, 100 * r.sparsity(), before == null ? Double.NaN : 100 * before.sparsity(),
                    Figures.sparsity(r.sparsity()), before == null ? null : Figures.sparsity(before.sparsity()));
            bars(svg, bits, top, compare, r.bits(), before == null ? Double.NaN : before.bits(),
                    Figures.bits(r.bits()), before == null ? null : Figures.bits(before.bits()));
            svg.text(detailX, mid + 4, "start", "detail", detail(r));
        }
        return svg.close();
    }

    /** Whether two steps' layers are the same layers (same count and indices), so a bar of one can stand beside the other's. */
    static boolean lineUp(List<LayerRow> a, List<LayerRow> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) if (a.get(i).index() != b.get(i).index()) return false;
        return true;
    }

    private static void legend(Svg svg, double x, String firstName, String lastName) {
        double at = x;
        if (firstName != null) {
            svg.rect(at, 10, 12, 10, "bar-before", null);
            svg.text(at + 17, 19, "start", "legend", firstName);
            at += 17 + Svg.textWidth(firstName) + 18;
        }
        svg.rect(at, 10, 12, 10, "bar", null);
        svg.text(at + 17, 19, "start", "legend", lastName);
    }

    private static void axis(Svg svg, Scale scale, double bottom, String unit) {
        for (double v : scale.ticks()) {
            svg.line(scale.at(v), TOP - 4, scale.at(v), bottom, "grid");
            svg.text(scale.at(v), bottom + 16, "middle", "tick", Figures.format("%.0f", v) + unit);
        }
        svg.line(scale.from(), bottom, scale.to(), bottom, "axis");
    }

    /** The last step's bar (and the first step's above it when comparing), each with its value written at its end. */
    private static void bars(Svg svg, Scale scale, double top, boolean compare, double value, double before, String text, String beforeText) {
        double x0 = scale.from();
        if (compare) {
            double w = Double.isFinite(before) ? scale.at(before) - x0 : 0;
            svg.rect(x0, top + 6, w, 10, "bar-before", beforeText);
            svg.text(x0 + w + 5, top + 15, "start", "value-before", beforeText);
        }
        double y = compare ? top + 19 : top + 6;
        double w = Double.isFinite(value) ? scale.at(value) - x0 : 0;
        svg.rect(x0, y, w, 15, "bar", text);
        svg.text(x0 + w + 5, y + 12, "start", "value", text);
    }

    /** "0  linear(300)", shortened with an ellipsis when very long. */
    static String label(LayerRow r) {
        return Figures.shorten(r.index() + "  " + r.layer(), MAX_LABEL_CHARS);
    }

    /** "16 clusters · huffman · 12 kB", or "dense · 940 kB" when not weight-shared. */
    static String detail(LayerRow r) {
        String shared = r.clusters() > 0 ? r.clusters() + " clusters · " : "";
        return shared + r.format() + " · " + Figures.bytes(r.bytes());
    }
}
