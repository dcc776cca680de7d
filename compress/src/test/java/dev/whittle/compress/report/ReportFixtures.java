package dev.whittle.compress.report;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A realistic run to render: LeNet-300-100 pruned, weight-shared and quantized. */
final class ReportFixtures {

    private ReportFixtures() {}

    static List<LayerRow> layers(int bits, int clusters, double s0, double s1, double s2, String format, long b0, long b1, long b2) {
        return List.of(
                new LayerRow(0, "linear(300)", new int[] {300, 784}, bits, clusters, s0, format, b0),
                new LayerRow(1, "linear(100)", new int[] {100, 300}, bits, clusters, s1, format, b1),
                new LayerRow(2, "linear(10)", new int[] {10, 100}, bits, clusters, s2, format, b2));
    }

    static List<StepMetrics> lenet() {
        return List.of(
                new StepMetrics("original", 0.8857, 0.8891, 1_067_288, 848, 266_610, 266_200, 30.2, 41.7, 21_400, 0,
                        layers(32, 0, 0.0, 0.0, 0.0, "dense", 942_000, 120_400, 4_040), "the model as given"),
                new StepMetrics("prune", 0.8910, 0.8934, 86_412, 1_212, 266_610, 13_310, 14.1, 19.8, 52_300, 183.4,
                        layers(32, 0, 0.96, 0.91, 0.70, "csr", 60_480, 21_900, 2_820),
                        "magnitude pruning to 95% over 12 epochs, gradual (Zhu and Gupta 2017)"),
                new StepMetrics("share", 0.8895, 0.8921, 41_870, 1_340, 266_610, 13_310, 15.0, 21.2, 49_800, 36.9,
                        layers(32, 16, 0.96, 0.91, 0.70, "csr", 29_100, 10_600, 830), "k-means, 16 clusters per layer, 2 fine-tune epochs"),
                new StepMetrics("quantize", 0.8890, 0.8917, 25_000, 1_402, 266_610, 13_310, 12.0, 16.4, 61_900, 8.2,
                        layers(8, 16, 0.96, 0.91, 0.70, "huffman", 17_250, 5_900, 448), "int8 per-channel, Huffman-coded indices"));
    }

    static Map<String, Object> manifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("whittle_version", "0.1.0-SNAPSHOT");
        m.put("command", "whittle compress lenet-300-100.safetensors --recipe prune,share,quantize --max-accuracy-drop 1");
        m.put("seeds", Map.of("data", 42, "train", 7));
        m.put("recipe", List.of(Map.of("step", "prune", "sparsity", 0.95), Map.of("step", "share", "clusters", 16),
                Map.of("step", "quantize", "bits", 8, "coding", "huffman")));
        m.put("input_sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        m.put("output_sha256", "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752");
        return m;
    }
}
