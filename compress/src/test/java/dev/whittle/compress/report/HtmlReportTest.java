package dev.whittle.compress.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class HtmlReportTest {

    /** Parses the page as XML: it is written to be well-formed, so any unbalanced tag or stray {@code <} or {@code &} fails here. */
    static Document parse(String html) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setExpandEntityReferences(false);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    static List<Element> elements(Document doc, String tag) {
        NodeList nodes = doc.getElementsByTagName(tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) out.add((Element) nodes.item(i));
        return out;
    }

    static Element pointOf(Document doc, String step) {
        for (Element c : elements(doc, "circle")) if (c.getAttribute("data-step").equals(step)) return c;
        return null;
    }

    static double num(Element e, String attribute) {
        return Double.parseDouble(e.getAttribute(attribute));
    }

    static StepMetrics step(String name, double accuracy, long bytes, List<LayerRow> layers, String note) {
        return new StepMetrics(name, accuracy, Double.NaN, bytes, 100, 1000, 900, 10, 12, 1e4, 1, layers, note);
    }

    @Test
    void theSamplePageIsWellFormedAndNamesEveryStep() throws Exception {
        String html = HtmlReport.render("lenet-300-100", ReportFixtures.lenet(), ReportFixtures.manifest(), 1.0);
        Document doc = parse(html);
        assertEquals("html", doc.getDocumentElement().getTagName());
        assertEquals(3, elements(doc, "svg").size()); // accuracy, layers, latency
        assertEquals(ReportFixtures.lenet().size(), elements(doc, "details").size());
        for (StepMetrics s : ReportFixtures.lenet()) {
            assertTrue(html.contains(">" + s.name() + "<"), s.name());
            assertNotNull(pointOf(doc, s.name()), s.name());
        }
        assertTrue(html.contains("42.7x smaller"));
        assertTrue(html.contains("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    }

    @Test
    void theSummaryComparesTheLastStepWithTheFirst() {
        String summary = HtmlReport.summary(ReportFixtures.lenet(), 1.0);
        assertTrue(summary.startsWith("42.7x smaller"), summary);
        assertTrue(summary.contains("accuracy +0.33 pt (88.57% → 88.90%; budget -1.00 pt)"), summary);
        assertTrue(summary.contains("2.52x speedup"), summary); // 30.2 / 12.0
    }

    @Test
    void noScriptsAndNothingFromTheNetwork() {
        String html = HtmlReport.render("t", ReportFixtures.lenet(), ReportFixtures.manifest(), 1.0);
        assertFalse(html.toLowerCase().contains("<script"));
        assertFalse(html.contains("@import") || html.contains("url("));
        Matcher links = Pattern.compile("https?://[^\"\\s]*").matcher(html);
        while (links.find()) assertEquals("http://www.w3.org/2000/svg", links.group());
    }

    @Test
    void markupInNamesNotesAndTheManifestIsEscaped() throws Exception {
        String attack = "<script>alert('x')</script> & \"quoted\"";
        Map<String, Object> manifest = new HashMap<>();
        manifest.put("recipe", attack);
        manifest.put("nested", List.of(Map.of("<b>", attack)));
        List<StepMetrics> steps = List.of(step("original", 0.9, 10_000, List.of(), attack),
                step("<i>prune</i>", 0.89, 1_000, List.of(new LayerRow(0, "<conv>", new int[] {2, 2}, 8, 0, 0.5, "<csr>", 10)), attack));
        String html = HtmlReport.render("<title> & co", steps, manifest, 1.0);
        Document doc = parse(html);
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("<i>") || html.contains("<conv>") || html.contains("<csr>") || html.contains("<b>"));
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
        assertEquals("<title> & co", doc.getElementsByTagName("title").item(0).getTextContent());
        assertNotNull(pointOf(doc, "<i>prune</i>"));
    }

    @Test
    void pointsSitOnTheirTicks() throws Exception {
        List<StepMetrics> steps = List.of(step("original", 0.90, 1_000_000, List.of(), ""), step("prune", 0.85, 100_000, List.of(), ""),
                step("quantize", 0.80, 10_000, List.of(), ""));
        Document doc = parse(HtmlReport.render("t", steps, Map.of(), 1.0));
        Element big = pointOf(doc, "original"), mid = pointOf(doc, "prune"), small = pointOf(doc, "quantize");

        // Largest file on the left, smallest on the right, evenly spaced on the log scale.
        assertTrue(num(big, "cx") < num(mid, "cx") && num(mid, "cx") < num(small, "cx"));
        assertEquals(num(mid, "cx") - num(big, "cx"), num(small, "cx") - num(mid, "cx"), 0.15);
        assertEquals(num(big, "cx"), tickX(doc, "1 MB"), 0.05);
        assertEquals(num(mid, "cx"), tickX(doc, "100 kB"), 0.05);
        assertEquals(num(small, "cx"), tickX(doc, "10 kB"), 0.05);

        // Higher accuracy is higher up, linearly; the budget sits one point below the first step.
        double y90 = num(big, "cy"), y85 = num(mid, "cy"), y80 = num(small, "cy");
        assertTrue(y90 < y85 && y85 < y80);
        assertEquals(y85 - y90, y80 - y85, 0.15);
        Element budget = elements(doc, "line").stream().filter(l -> l.getAttribute("class").equals("budget")).findFirst().orElseThrow();
        assertEquals(num(budget, "y1"), num(budget, "y2"));
        assertEquals(y90 + (y80 - y90) / 10, num(budget, "y1"), 0.15);
    }

    /** The x of the accuracy chart's tick label reading {@code text}. */
    static double tickX(Document doc, String text) {
        for (Element t : elements(doc, "text")) {
            if (t.getAttribute("class").equals("tick") && t.getTextContent().equals(text)) return num(t, "x");
        }
        throw new AssertionError("no tick " + text);
    }

    @Test
    void sparsityBarsAreInProportion() throws Exception {
        List<LayerRow> layers = List.of(new LayerRow(0, "linear(8)", new int[] {8, 4}, 8, 0, 0.80, "csr", 100),
                new LayerRow(1, "linear(2)", new int[] {2, 8}, 4, 16, 0.40, "csr", 20));
        Document doc = parse(HtmlReport.render("t", List.of(step("only", 0.9, 1000, layers, "")), Map.of(), Double.NaN));
        double w80 = barWidth(doc, "80.0%"), w40 = barWidth(doc, "40.0%");
        assertEquals(2 * w40, w80, 0.15);
        assertEquals(2 * barWidth(doc, "int4"), barWidth(doc, "int8"), 0.15);
    }

    static double barWidth(Document doc, String tooltip) {
        for (Element r : elements(doc, "rect")) {
            if (r.getAttribute("class").equals("bar") && r.getTextContent().equals(tooltip)) return num(r, "width");
        }
        throw new AssertionError("no bar " + tooltip);
    }

    @Test
    void notMeasuredShowsAnEnDashAndNoPoint() throws Exception {
        StepMetrics untimed = new StepMetrics("untested", Double.NaN, Double.NaN, 500, 10, 10, 10, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, List.of(), null);
        String html = HtmlReport.render("t", List.of(step("original", 0.9, 1000, List.of(), ""), untimed), Map.of(), 1.0);
        Document doc = parse(html);
        assertNull(pointOf(doc, "untested"));
        assertTrue(html.contains("<td class=\"num\">–</td>"));
        assertTrue(html.contains("not timed"));
        assertFalse(html.contains("NaN"));
    }

    @Test
    void oneStepNoLayersNoManifestNoBudget() throws Exception {
        String html = HtmlReport.render("t", List.of(step("original", 0.9, 1000, List.of(), null)), Map.of(), Double.NaN);
        Document doc = parse(html);
        assertNotNull(pointOf(doc, "original"));
        assertTrue(elements(doc, "polyline").isEmpty());
        assertTrue(elements(doc, "line").stream().noneMatch(l -> l.getAttribute("class").equals("budget")));
        assertEquals(2, elements(doc, "svg").size()); // no layer chart
        assertTrue(html.contains("No layers recorded."));
        assertTrue(html.contains("No manifest."));
    }

    @Test
    void hugeAndTinyFilesStayOnTheChart() throws Exception {
        List<StepMetrics> steps = List.of(step("huge", 0.9, 5_000_000_000_000L, List.of(), ""), step("tiny", 0.9, 1, List.of(), ""),
                step("empty", 0.9, 0, List.of(), ""));
        String html = HtmlReport.render("t", steps, Map.of(), 1.0);
        Document doc = parse(html);
        assertFalse(html.contains("NaN") || html.contains("Infinity"));
        for (String name : List.of("huge", "tiny", "empty")) {
            double x = num(pointOf(doc, name), "cx");
            assertTrue(x >= AccuracySizeChart.LEFT && x <= AccuracySizeChart.RIGHT, name + " at " + x);
        }
        assertTrue(html.contains(">1 TB<") && html.contains(">1 B<"));
    }

    @Test
    void theSameRunGivesTheSamePage() {
        assertEquals(HtmlReport.render("t", ReportFixtures.lenet(), ReportFixtures.manifest(), 1.0),
                HtmlReport.render("t", ReportFixtures.lenet(), ReportFixtures.manifest(), 1.0));
    }

    @Test
    void aManifestWithoutOrderIsWrittenInKeyOrder() throws Exception {
        Map<String, Object> manifest = new HashMap<>(); // iterates output_sha256, seeds, recipe, ...
        for (String key : List.of("whittle_version", "seeds", "recipe", "input_sha256", "output_sha256", "command")) manifest.put(key, key);
        Document doc = parse(HtmlReport.render("t", ReportFixtures.lenet(), manifest, 1.0));
        List<String> keys = elements(doc, "dt").stream().map(Element::getTextContent).toList();
        assertEquals(List.of("command", "input_sha256", "output_sha256", "recipe", "seeds", "whittle_version"), keys);

        Map<String, Object> ordered = new LinkedHashMap<>();
        ordered.put("z", 1);
        ordered.put("a", Map.of("y", 2, "b", 3));
        assertEquals("{z=1, a={b=3, y=2}}", HtmlReport.ordered(ordered).toString());
    }
}
