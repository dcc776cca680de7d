package dev.whittle.compress.report;

import java.util.List;
import java.util.Locale;

/**
 * Writes one inline SVG element by plain string building. Coordinates are written with one
 * decimal (enough for a screen, and the same digits on every machine); text is escaped; the look
 * comes from CSS classes that the page's style sheet defines, so a chart holds no colours.
 */
final class Svg {

    /** Average advance of a character of the page's 12px sans-serif text, for sizing labels. */
    static final double CHAR_WIDTH = 6.8;

    private final StringBuilder out = new StringBuilder();

    /** Opens an SVG of {@code width} by {@code height} user units, described by {@code label} for screen readers. */
    Svg(double width, double height, String label) {
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 ")
                .append(n(width)).append(' ').append(n(height)).append("\" width=\"").append(n(width))
                .append("\" height=\"").append(n(height)).append("\" role=\"img\" aria-label=\"")
                .append(Markup.escape(label)).append("\">\n");
    }

    /** The width {@code text} takes at the page's 12px text size, roughly. */
    static double textWidth(String text) {
        return text.length() * CHAR_WIDTH;
    }

    Svg line(double x1, double y1, double x2, double y2, String cssClass) {
        out.append("<line class=\"").append(cssClass).append("\" x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1))
                .append("\" x2=\"").append(n(x2)).append("\" y2=\"").append(n(y2)).append("\"/>\n");
        return this;
    }

    Svg rect(double x, double y, double width, double height, String cssClass, String tooltip) {
        out.append("<rect class=\"").append(cssClass).append("\" x=\"").append(n(x)).append("\" y=\"").append(n(y))
                .append("\" width=\"").append(n(Math.max(0, width))).append("\" height=\"").append(n(Math.max(0, height)));
        return closeWithTooltip("rect", tooltip);
    }

    /** A circle tagged with {@code data-step} so tests and readers can find whose point it is. */
    Svg point(double cx, double cy, double r, String cssClass, String step, String tooltip) {
        out.append("<circle class=\"").append(cssClass).append("\" data-step=\"").append(Markup.escape(step))
                .append("\" cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r));
        return closeWithTooltip("circle", tooltip);
    }

    Svg polyline(List<double[]> points, String cssClass) {
        if (points.size() < 2) return this;
        out.append("<polyline class=\"").append(cssClass).append("\" points=\"");
        for (int i = 0; i < points.size(); i++) {
            out.append(i == 0 ? "" : " ").append(n(points.get(i)[0])).append(',').append(n(points.get(i)[1]));
        }
        out.append("\"/>\n");
        return this;
    }

    /** Text at ({@code x}, {@code y}) with {@code anchor} "start", "middle" or "end"; {@code y} is the baseline. */
    Svg text(double x, double y, String anchor, String cssClass, String text) {
        out.append("<text class=\"").append(cssClass).append("\" x=\"").append(n(x)).append("\" y=\"").append(n(y))
                .append("\" text-anchor=\"").append(anchor).append("\">").append(Markup.escape(text)).append("</text>\n");
        return this;
    }

    /** Text turned a quarter anticlockwise about its own position, for a vertical axis title. */
    Svg verticalText(double x, double y, String cssClass, String text) {
        out.append("<text class=\"").append(cssClass).append("\" x=\"").append(n(x)).append("\" y=\"").append(n(y))
                .append("\" text-anchor=\"middle\" transform=\"rotate(-90 ").append(n(x)).append(' ').append(n(y))
                .append(")\">").append(Markup.escape(text)).append("</text>\n");
        return this;
    }

    String close() {
        return out.append("</svg>\n").toString();
    }

    /** Ends an open {@code tag}, with a {@code <title>} inside when there is a tooltip (browsers show it on hover). */
    private Svg closeWithTooltip(String tag, String tooltip) {
        if (tooltip == null) out.append("\"/>\n");
        else out.append("\"><title>").append(Markup.escape(tooltip)).append("</title></").append(tag).append(">\n");
        return this;
    }

    /** A coordinate with one decimal, without a trailing ".0". */
    static String n(double v) {
        if (!Double.isFinite(v)) throw new IllegalArgumentException("coordinate " + v);
        long tenths = Math.round(v * 10);
        return tenths % 10 == 0 ? Long.toString(tenths / 10) : String.format(Locale.ROOT, "%.1f", tenths / 10.0);
    }
}
