package dev.whittle.compress.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class MarkdownTableTest {

    /** The cells of a Markdown table row, unescaped pipes kept apart from the separators. */
    static List<String> cells(String row) {
        List<String> out = new ArrayList<>();
        for (String c : row.substring(1, row.length() - 1).split("(?<!\\\\)\\|")) out.add(c.strip());
        return out;
    }

    static StepMetrics step(String name, double accuracy, long bytes, double p50) {
        return new StepMetrics(name, accuracy, Double.NaN, bytes, 100, 1000, 900, p50, 2 * p50, 1e4, 1, List.of(), "");
    }

    @Test
    void oneRowPerStepWithRatiosAgainstTheFirst() {
        List<StepMetrics> steps = ReportFixtures.lenet();
        String[] lines = MarkdownTable.render(steps).split("\n");
        assertEquals(2 + steps.size(), lines.length);
        assertEquals(TableColumns.STEP_HEADERS, cells(lines[0]));
        StepMetrics first = steps.getFirst();
        for (int i = 0; i < steps.size(); i++) {
            StepMetrics s = steps.get(i);
            List<String> row = cells(lines[2 + i]);
            assertEquals(TableColumns.STEP_HEADERS.size(), row.size());
            assertEquals(s.name(), row.get(0));
            assertEquals(String.format(Locale.ROOT, "%.2f%%", 100 * s.accuracy()), row.get(1));
            assertEquals(String.format(Locale.ROOT, "%+.2f pt", 100 * (s.accuracy() - first.accuracy())), row.get(2));
            assertEquals(String.format(Locale.ROOT, "%,d", s.fileBytes()), row.get(3));
            double ratio = (double) first.fileBytes() / s.fileBytes();
            assertEquals(i == 0 ? "1.0x" : String.format(Locale.ROOT, "%.1fx smaller", ratio), row.get(4));
            assertEquals(String.format(Locale.ROOT, "%.2fx", first.latencyUsP50() / s.latencyUsP50()), row.get(11));
        }
        assertEquals("42.7x smaller", cells(lines[5]).get(4)); // 1,067,288 / 25,000 = 42.69
    }

    @Test
    void aStepThatGrewSaysLarger() {
        String table = MarkdownTable.render(List.of(step("a", 0.9, 1000, 10), step("b", 0.9, 2500, 10)));
        assertEquals("2.5x larger", cells(table.split("\n")[3]).get(4));
    }

    @Test
    void notMeasuredIsAnEnDash() {
        StepMetrics untimed = new StepMetrics("untimed", Double.NaN, Double.NaN, 500, 10, 10, 10, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, List.of(), null);
        List<String> row = cells(MarkdownTable.render(List.of(step("a", 0.9, 1000, 10), untimed)).split("\n")[3]);
        for (int c : new int[] {1, 2, 8, 9, 10, 11}) assertEquals("–", row.get(c), TableColumns.STEP_HEADERS.get(c));
        assertEquals("2.0x smaller", row.get(4));
    }

    @Test
    void aPipeInANameStaysInItsCell() {
        String table = MarkdownTable.render(List.of(step("prune | share", 0.9, 1000, 10)));
        List<String> row = cells(table.split("\n")[2]);
        assertEquals(TableColumns.STEP_HEADERS.size(), row.size());
        assertEquals("prune \\| share", row.get(0));
    }

    @Test
    void formattingIgnoresTheDefaultLocale() {
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            String table = MarkdownTable.render(ReportFixtures.lenet());
            assertTrue(table.contains("| 1,067,288 |"), table);
            assertTrue(table.contains("| 88.57% |"), table);
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void layerTableHasOneRowPerLayer() {
        List<LayerRow> layers = ReportFixtures.lenet().getFirst().layers();
        String[] lines = MarkdownTable.layers(layers).split("\n");
        assertEquals(2 + layers.size(), lines.length);
        assertEquals(List.of("0", "linear(300)", "300×784", "32", "–", "0.0%", "dense", "942,000"), cells(lines[2]));
        List<String> shared = cells(MarkdownTable.layers(ReportFixtures.lenet().getLast().layers()).split("\n")[2]);
        assertEquals(Arrays.asList("0", "linear(300)", "300×784", "8", "16", "96.0%", "huffman", "17,250"), shared);
        assertEquals(2, MarkdownTable.layers(List.of()).split("\n").length);
    }

    @Test
    void noStepsIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> MarkdownTable.render(List.of()));
    }
}
