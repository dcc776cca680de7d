package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a model's inputs were prepared in training, as its file records it under {@link #KEY}: every
 * value {@code x} (a pixel byte, or a table's number as read) becomes
 * {@code (x / scale - mean[c]) / std[c]}, computed in doubles and rounded to float once, with
 * {@code c} the value's index modulo the length of {@code mean} (one mean and std for all of an
 * image's pixels, one per column of a table). A program that embeds the model applies the same
 * step to its raw inputs before {@link dev.whittle.engine.Model#predict}:
 *
 * <pre>
 *   ModelFile.Loaded loaded = ModelFile.load(path);
 *   float[] x = InputNormalization.of(loaded.metadata(), path).orElseThrow().apply(pixelBytes);
 *   Tensor y = loaded.model().predict(new Tensor(x, 1, 1, 28, 28));
 * </pre>
 *
 * The JSON form: {@code {"scale": 255, "mean": [0.286], "std": [0.353]}}.
 */
public final class InputNormalization {

    /** The metadata key of a model file. */
    public static final String KEY = "whittle.input_normalization";

    private final double scale;
    private final double[] mean;
    private final double[] std;

    /**
     * @param scale what a raw value is divided by first (255 for pixel bytes, 1 for a table)
     * @param mean  one value, or one per position of a sample (repeating)
     * @param std   as many as {@code mean}, each positive
     */
    public InputNormalization(double scale, double[] mean, double[] std) {
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException("scale must be positive, got " + scale);
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException(mean.length + " means and " + std.length + " standard deviations");
        }
        for (int i = 0; i < mean.length; i++) {
            if (!Double.isFinite(mean[i])) throw new IllegalArgumentException("mean[" + i + "] = " + mean[i]);
            if (!(std[i] > 0) || Double.isInfinite(std[i])) throw new IllegalArgumentException("std[" + i + "] = " + std[i]);
        }
        this.scale = scale;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** The normalisation {@code metadata} records, if any; a malformed record names the file. */
    public static Optional<InputNormalization> of(Map<String, String> metadata, Path file) throws BadInputException {
        String text = metadata.get(KEY);
        if (text == null) return Optional.empty();
        try {
            if (!(Json.parse(text) instanceof Map<?, ?> m)) throw new IllegalArgumentException("not a JSON object");
            return Optional.of(new InputNormalization(number(m.get("scale")), numbers(m.get("mean")), numbers(m.get("std"))));
        } catch (IllegalArgumentException | Json.SyntaxException e) {
            throw new BadInputException(file + ": " + KEY + " " + text + ": " + e.getMessage(), e);
        }
    }

    private static double number(Object o) {
        if (o instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("expected a number, got " + o);
    }

    private static double[] numbers(Object o) {
        if (!(o instanceof List<?> list)) throw new IllegalArgumentException("expected a list of numbers, got " + o);
        double[] v = new double[list.size()];
        for (int i = 0; i < v.length; i++) v[i] = number(list.get(i));
        return v;
    }

    /** The JSON a model file stores. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scale", scale);
        List<Object> means = new ArrayList<>(), stds = new ArrayList<>();
        for (double v : mean) means.add(v);
        for (double v : std) stds.add(v);
        m.put("mean", means);
        m.put("std", stds);
        return Json.write(m);
    }

    /** Raw numbers (a table's row, or pixels as floats 0..255) normalised. */
    public float[] apply(float[] raw) {
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            int c = i % mean.length;
            out[i] = (float) ((raw[i] / scale - mean[c]) / std[c]);
        }
        return out;
    }

    /** Pixel bytes (unsigned, 0..255) normalised. */
    public float[] apply(byte[] pixels) {
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            int c = i % mean.length;
            out[i] = (float) (((pixels[i] & 0xFF) / scale - mean[c]) / std[c]);
        }
        return out;
    }
}
