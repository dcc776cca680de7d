package dev.whittle.engine.nn;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Sequential} from an architecture spec (DESIGN.md, Architecture specs): a preset
 * name or space-separated layer tokens such as {@code conv(6,5,pad=2) relu maxpool(2) flatten
 * linear(10)}. Shapes are inferred from the dataset's per-sample input shape; a spec whose shapes
 * do not chain is rejected naming the layer and the shapes.
 */
public final class ArchSpec {

    /** One parsed token: its name, positional arguments and {@code key=value} options. */
    record Token(int index, String text, String name, List<String> args, Map<String, String> options) {}

    private ArchSpec() {}

    /** The preset names and what they expand to ({@code convnet3} takes an optional width). */
    public static Map<String, String> presets() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("lenet-300-100", "mlp(784,300,100,10)");
        p.put("lenet5", "conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) flatten"
                + " linear(120) relu linear(84) relu linear(10)");
        p.put("lenet5-wide", "conv(32,5,pad=2) relu maxpool(2) conv(64,5) relu maxpool(2) flatten"
                + " linear(256) relu linear(128) relu linear(10)");
        p.put("convnet3(w)", convnet3(32));
        return p;
    }

    private static String convnet3(int w) {
        String block = "conv(" + w + ",3,pad=1) relu avgpool(2) ";
        return block + block + block + "flatten linear(10)";
    }

    /** The free-form spec a preset stands for, or the spec itself. */
    public static String expand(String spec) throws BadInputException {
        String s = spec.strip();
        if (s.equals("lenet-300-100") || s.equals("lenet5") || s.equals("lenet5-wide")) return presets().get(s);
        if (s.equals("convnet3")) return convnet3(32);
        if (s.startsWith("convnet3(") && s.endsWith(")")) {
            String w = s.substring(9, s.length() - 1).strip();
            return convnet3(positive("convnet3", "width", w));
        }
        return s;
    }

    /** Builds the model for inputs of {@code inputShape} (per sample), initialised from {@code seed}. */
    public static Sequential build(String spec, int[] inputShape, long seed) throws BadInputException {
        return build(spec, inputShape, seed, Long.MAX_VALUE);
    }

    /**
     * Builds the model, refusing before any allocation a spec whose parameters and buffers
     * would exceed {@code maxValues} (a model file's spec must not ask for more memory than its
     * data could fill).
     */
    public static Sequential build(String spec, int[] inputShape, long seed, long maxValues) throws BadInputException {
        List<Token> tokens = tokenize(expand(spec));
        if (tokens.isEmpty()) throw new BadInputException("architecture spec is empty");
        Rng master = new Rng(seed);
        List<Layer> layers = new ArrayList<>();
        int[] shape = inputShape.clone();
        double[] left = {maxValues};
        for (Token t : tokens) {
            double values = stateValues(t, shape);
            left[0] -= values;
            if (left[0] < 0) {
                throw new BadInputException(where(t, shape) + ": the model would need more than " + maxValues
                        + " parameter values");
            }
            for (Layer l : layer(t, shape, master)) {
                layers.add(l);
                shape = l.outputShape();
            }
        }
        return new Sequential(spec.strip(), inputShape, layers);
    }

    static List<Token> tokenize(String spec) throws BadInputException {
        List<Token> tokens = new ArrayList<>();
        int i = 0, n = spec.length();
        while (i < n) {
            if (Character.isWhitespace(spec.charAt(i))) {
                i++;
                continue;
            }
            int start = i;
            int depth = 0;
            while (i < n && (depth > 0 || !Character.isWhitespace(spec.charAt(i)))) {
                char c = spec.charAt(i);
                if (c == '(') depth++;
                if (c == ')') depth--;
                if (depth < 0) throw new BadInputException("architecture spec: unbalanced ')' in \"" + spec.substring(start, i + 1) + "\"");
                i++;
            }
            if (depth != 0) throw new BadInputException("architecture spec: unclosed '(' in \"" + spec.substring(start) + "\"");
            tokens.add(parseToken(tokens.size() + 1, spec.substring(start, i).replaceAll("\\s+", "")));
        }
        return tokens;
    }

    private static Token parseToken(int index, String text) throws BadInputException {
        int open = text.indexOf('(');
        String name = open < 0 ? text : text.substring(0, open);
        List<String> args = new ArrayList<>();
        Map<String, String> options = new LinkedHashMap<>();
        if (open >= 0) {
            if (!text.endsWith(")")) throw new BadInputException("architecture spec: layer " + index + " \"" + text + "\": text after ')'");
            String inner = text.substring(open + 1, text.length() - 1);
            if (!inner.isEmpty()) {
                for (String part : inner.split(",", -1)) {
                    int eq = part.indexOf('=');
                    if (eq >= 0) options.put(part.substring(0, eq), part.substring(eq + 1));
                    else if (!options.isEmpty()) {
                        throw new BadInputException("architecture spec: layer " + index + " \"" + text + "\": positional argument after an option");
                    } else args.add(part);
                }
            }
        }
        return new Token(index, text, name.toLowerCase(java.util.Locale.ROOT), args, options);
    }

    private static List<Layer> layer(Token t, int[] in, Rng master) throws BadInputException {
        return switch (t.name()) {
            case "linear" -> {
                expectArgs(t, 1, 1, List.of());
                int out = positive(t, "out", t.args().get(0));
                if (in.length != 1) {
                    throw new BadInputException(where(t, in) + ": linear needs a flat input; add 'flatten' before it");
                }
                yield List.of(new Linear(in[0], out, master.split()));
            }
            case "mlp" -> {
                if (t.args().size() < 2 || !t.options().isEmpty()) {
                    throw new BadInputException(where(t, in) + ": mlp takes input size and at least one layer size, e.g. mlp(784,300,10)");
                }
                int features = Buffers.product(in);
                int first = positive(t, "input size", t.args().get(0));
                if (first != features) {
                    throw new BadInputException(where(t, in) + ": mlp input size " + first + " does not match the "
                            + features + " features of the input");
                }
                List<Layer> ls = new ArrayList<>();
                int[] shape = in;
                if (in.length != 1) {
                    ls.add(new Flatten(in));
                    shape = new int[] {features};
                }
                for (int k = 1; k < t.args().size(); k++) {
                    int out = positive(t, "layer size", t.args().get(k));
                    ls.add(new Linear(shape[0], out, master.split()));
                    shape = new int[] {out};
                    if (k < t.args().size() - 1) ls.add(new ReLU(shape));
                }
                yield ls;
            }
            case "flatten" -> {
                expectArgs(t, 0, 0, List.of());
                yield List.of(new Flatten(in));
            }
            case "relu" -> {
                expectArgs(t, 0, 0, List.of());
                yield List.of(new ReLU(in));
            }
            case "dropout" -> {
                expectArgs(t, 0, 1, List.of());
                float p = t.args().isEmpty() ? 0.5f : number(t, "p", t.args().get(0));
                if (!(p >= 0f && p < 1f)) throw new BadInputException(where(t, in) + ": dropout probability must be in [0, 1), got " + p);
                yield List.of(new Dropout(in, p, master.split()));
            }
            case "conv" -> {
                expectArgs(t, 2, 2, List.of("stride", "pad"));
                image(t, in);
                int out = atLeast(t, in, "out channels", t.args().get(0), 1);
                int k = atLeast(t, in, "kernel", t.args().get(1), 1);
                int stride = atLeast(t, in, "stride", t.options().getOrDefault("stride", "1"), 1);
                int pad = atLeast(t, in, "pad", t.options().getOrDefault("pad", "0"), 0);
                windowFits(t, in, k, pad);
                // in double: a hostile spec could overflow even a long here
                double positions = (double) ((in[1] + 2L * pad - k) / stride + 1) * ((in[2] + 2L * pad - k) / stride + 1);
                double patch = (double) in[0] * k * k;
                fits(t, in, "its weight", out * patch);
                fits(t, in, "its output", out * positions);
                fits(t, in, "its im2col matrix", patch * positions);
                yield List.of(new Conv2d(in, out, k, stride, pad, master.split()));
            }
            case "maxpool", "avgpool" -> {
                expectArgs(t, 1, 2, List.of());
                image(t, in);
                int k = atLeast(t, in, "kernel", t.args().get(0), 1);
                int stride = t.args().size() > 1 ? atLeast(t, in, "stride", t.args().get(1), 1) : k;
                windowFits(t, in, k, 0);
                yield List.of(t.name().equals("maxpool") ? new MaxPool2d(in, k, stride) : new AvgPool2d(in, k, stride));
            }
            case "gap" -> {
                expectArgs(t, 0, 0, List.of());
                image(t, in);
                yield List.of(new GlobalAvgPool(in));
            }
            case "bn" -> {
                expectArgs(t, 0, 0, List.of());
                if (in.length == 1) yield List.of(new BatchNorm1d(in[0]));
                if (in.length == 3) yield List.of(new BatchNorm2d(in));
                throw new BadInputException(where(t, in) + ": bn needs a [features] or [channels, height, width] input");
            }
            case "leakyrelu" -> {
                expectArgs(t, 0, 1, List.of());
                float slope = t.args().isEmpty() ? LeakyReLU.DEFAULT_SLOPE : number(t, "slope", t.args().get(0));
                if (!Float.isFinite(slope)) throw new BadInputException(where(t, in) + ": slope must be a finite number, got " + slope);
                yield List.of(new LeakyReLU(in, slope));
            }
            case "tanh" -> {
                expectArgs(t, 0, 0, List.of());
                yield List.of(new Tanh(in));
            }
            case "sigmoid" -> {
                expectArgs(t, 0, 0, List.of());
                yield List.of(new Sigmoid(in));
            }
            default -> throw new BadInputException("architecture spec: layer " + t.index() + " \"" + t.text()
                    + "\": unknown layer '" + t.name() + "'; known: linear(out), conv(out,k[,stride=s][,pad=p]),"
                    + " maxpool(k[,s]), avgpool(k[,s]), gap, bn, flatten, dropout(p), relu, leakyrelu(a), tanh, sigmoid,"
                    + " mlp(in,h...,out); presets: lenet-300-100, lenet5, lenet5-wide, convnet3(w)");
        };
    }

    /**
     * The parameters and buffers a token's layer will allocate, computed from the spec alone
     * (unparseable arguments count 0 here; {@link #layer} rejects them with a proper message).
     */
    private static double stateValues(Token t, int[] in) {
        try {
            double features = 1;
            for (int d : in) features *= d;
            return switch (t.name()) {
                case "linear" -> features * (Integer.parseInt(t.args().get(0)) + 1.0);
                case "conv" -> {
                    double out = Integer.parseInt(t.args().get(0)), k = Integer.parseInt(t.args().get(1));
                    yield out * (in[0] * k * k + 1);
                }
                case "mlp" -> {
                    double total = 0, width = features;
                    for (int i = 1; i < t.args().size(); i++) {
                        double out = Integer.parseInt(t.args().get(i));
                        total += out * (width + 1);
                        width = out;
                    }
                    yield total;
                }
                case "bn" -> 4.0 * in[0];
                default -> 0;
            };
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Rejects an input that is not one image, {@code [channels, height, width]}, per sample. */
    private static void image(Token t, int[] in) throws BadInputException {
        if (in.length != 3) {
            throw new BadInputException(where(t, in) + ": " + t.name() + " needs a [channels, height, width] input"
                    + (in.length == 1 ? "; it cannot follow flatten, linear or gap" : ""));
        }
    }

    /** Rejects a {@code k x k} window that does not fit once in the (padded) input. */
    private static void windowFits(Token t, int[] in, int k, int pad) throws BadInputException {
        long h = in[1] + 2L * pad, w = in[2] + 2L * pad;
        if (k > h || k > w) {
            throw new BadInputException(where(t, in) + ": kernel " + k + "x" + k + " is larger than the "
                    + (pad > 0 ? "padded input " : "input ") + h + "x" + w);
        }
    }

    /** Rejects a tensor of more elements than a Java array holds, before anything is allocated. */
    private static void fits(Token t, int[] in, String what, double elements) throws BadInputException {
        if (elements > Integer.MAX_VALUE - 8) {
            throw new BadInputException(where(t, in) + ": " + what + " would hold " + String.format(java.util.Locale.ROOT, "%.3g", elements)
                    + " values, more than a Java array can");
        }
    }

    /** An integer argument that must be at least {@code min}; errors name the layer and its input. */
    private static int atLeast(Token t, int[] in, String what, String value, int min) throws BadInputException {
        int v;
        try {
            v = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new BadInputException(where(t, in) + ": " + what + " \"" + value + "\" is not an integer");
        }
        if (v < min) {
            String want = min == 0 ? "non-negative" : min == 1 ? "positive" : "at least " + min;
            throw new BadInputException(where(t, in) + ": " + what + " must be " + want + ", got " + v);
        }
        return v;
    }

    /** "layer 3 "conv(16,5)" on input [6, 14, 14]" — the prefix of every shape error. */
    static String where(Token t, int[] in) {
        return "architecture spec: layer " + t.index() + " \"" + t.text() + "\" on input " + Arrays.toString(in);
    }

    static void expectArgs(Token t, int min, int max, List<String> allowedOptions) throws BadInputException {
        if (t.args().size() < min || t.args().size() > max) {
            String want = min == max ? String.valueOf(min) : min + " to " + max;
            throw new BadInputException("architecture spec: layer " + t.index() + " \"" + t.text() + "\": '" + t.name()
                    + "' takes " + want + " argument(s), got " + t.args().size());
        }
        for (String key : t.options().keySet()) {
            if (!allowedOptions.contains(key)) {
                throw new BadInputException("architecture spec: layer " + t.index() + " \"" + t.text() + "\": unknown option '"
                        + key + "'" + (allowedOptions.isEmpty() ? "" : "; allowed: " + String.join(", ", allowedOptions)));
            }
        }
    }

    static int positive(Token t, String what, String value) throws BadInputException {
        return positive("layer " + t.index() + " \"" + t.text() + "\"", what, value);
    }

    private static int positive(String where, String what, String value) throws BadInputException {
        int v = integer(where, what, value);
        if (v < 1) throw new BadInputException("architecture spec: " + where + ": " + what + " must be positive, got " + v);
        return v;
    }

    static int integer(String where, String what, String value) throws BadInputException {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new BadInputException("architecture spec: " + where + ": " + what + " \"" + value + "\" is not an integer");
        }
    }

    static float number(Token t, String what, String value) throws BadInputException {
        try {
            return Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw new BadInputException("architecture spec: layer " + t.index() + " \"" + t.text() + "\": " + what
                    + " \"" + value + "\" is not a number");
        }
    }
}
