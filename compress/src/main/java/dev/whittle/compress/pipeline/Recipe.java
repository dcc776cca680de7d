package dev.whittle.compress.pipeline;

import dev.whittle.engine.BadInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code whittle compress} does, step by step, with every setting written out: the plain
 * text a user can keep beside a model to say how it was made.
 *
 * <pre>
 *   # lenet5, 15x smaller and 3x faster
 *   prune-structured  fraction=0.4 criterion=l1 epochs=4
 *   prune             sparsity=0.9 scope=global schedule=gradual epochs=5
 *   recover           epochs=2 temperature=2 alpha=0.5
 *   share             clusters=16 epochs=1
 *   quantize          bits=8 calibration=minmax samples=1000
 * </pre>
 *
 * One step a line, its name then {@code key=value} settings; {@code #} starts a comment. Steps run
 * in the order written; a setting left out takes the default of {@link #DEFAULTS}. Every step
 * accepts {@code tries=N}: how many times the accuracy budget may make it back off.
 */
public record Recipe(List<Step> steps) {

    /** The steps there are, with their settings and defaults, in the order they usually run. */
    public static final Map<String, Map<String, String>> DEFAULTS = defaults();

    /** One step: its name and its settings (defaults filled in). */
    public record Step(String name, Map<String, String> settings) {

        public Step {
            settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        }

        public String text(String key) {
            return settings.get(key);
        }

        /** A number setting (validated when the recipe was read). */
        public double number(String key) {
            return Double.parseDouble(settings.get(key));
        }

        public int integer(String key) {
            return Integer.parseInt(settings.get(key));
        }

        /** The line that reads back as this step. */
        public String line() {
            StringBuilder b = new StringBuilder(name);
            for (Map.Entry<String, String> e : settings.entrySet()) b.append(' ').append(e.getKey()).append('=').append(e.getValue());
            return b.toString();
        }

        /** This step with one setting changed (a back-off). */
        Step with(String key, String value) {
            Map<String, String> m = new LinkedHashMap<>(settings);
            m.put(key, value);
            return new Step(name, m);
        }
    }

    public Recipe {
        steps = List.copyOf(steps);
    }

    private static Map<String, Map<String, String>> defaults() {
        Map<String, Map<String, String>> d = new LinkedHashMap<>();
        d.put("distill", settings("student", "", "epochs", "10", "temperature", "2", "alpha", "0.5", "lr", "0.001", "tries", "1"));
        d.put("prune-structured", settings("fraction", "0.25", "criterion", "l1", "epochs", "3", "lr", "0.001", "tries", "3"));
        d.put("prune", settings("sparsity", "0.9", "scope", "global", "schedule", "gradual", "epochs", "5", "lr", "0.001", "tries", "3"));
        d.put("recover", settings("epochs", "2", "temperature", "2", "alpha", "0.5", "lr", "0.0001", "tries", "1"));
        d.put("share", settings("clusters", "16", "epochs", "1", "lr", "0.001", "tries", "3"));
        d.put("quantize", settings("bits", "8", "calibration", "minmax", "samples", "1000", "tries", "6"));
        java.util.Map<String, Map<String, String>> frozen = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> e : d.entrySet()) frozen.put(e.getKey(), java.util.Collections.unmodifiableMap(e.getValue()));
        return java.util.Collections.unmodifiableMap(frozen);
    }

    private static Map<String, String> settings(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    /**
     * The recipe of {@code --steps}: {@code distill} (needs {@code studentArch}), {@code prune}
     * (structured, then unstructured), {@code recover}, {@code share}, {@code quantize}, each with
     * its defaults; {@code prune-structured} and {@code prune-unstructured} name one half of prune.
     */
    public static Recipe ofSteps(List<String> names, String studentArch) throws BadInputException {
        StringBuilder text = new StringBuilder();
        for (String raw : names) {
            String n = raw.strip().toLowerCase(Locale.ROOT);
            switch (n) {
                case "distill" -> {
                    if (studentArch == null || studentArch.isBlank()) {
                        throw new BadInputException("--steps: distill needs --student-arch SPEC (the smaller model to distil into)");
                    }
                    text.append("distill student=").append(studentArch.strip().replace(' ', '_')).append('\n');
                }
                case "prune" -> text.append("prune-structured\nprune\n");
                case "prune-unstructured" -> text.append("prune\n");
                case "prune-structured", "recover", "share", "quantize" -> text.append(n).append('\n');
                default -> throw new BadInputException("--steps: unknown step \"" + raw + "\"; steps are distill, prune, prune-structured,"
                        + " prune-unstructured, recover, share, quantize");
            }
        }
        return parse(text.toString(), "--steps");
    }

    /** Reads a recipe; {@code source} names it in errors (a file name, or {@code --steps}). */
    public static Recipe parse(String text, String source) throws BadInputException {
        List<Step> steps = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        boolean quantized = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) line = line.substring(0, hash);
            line = line.strip();
            if (line.isEmpty()) continue;
            String where = source + " line " + (i + 1);
            String[] words = line.split("\\s+");
            String name = words[0].toLowerCase(Locale.ROOT);
            Map<String, String> defaults = DEFAULTS.get(name);
            if (defaults == null) throw new BadInputException(where + ": unknown step \"" + words[0] + "\"; steps are " + String.join(", ", DEFAULTS.keySet()));
            if (quantized) throw new BadInputException(where + ": \"" + name + "\" comes after quantize; quantize must be the last step");
            if (name.equals("distill") && !steps.isEmpty()) {
                throw new BadInputException(where + ": distill trains a new student from the original, so it must be the first step");
            }
            Map<String, String> s = new LinkedHashMap<>(defaults);
            for (int w = 1; w < words.length; w++) {
                int eq = words[w].indexOf('=');
                if (eq <= 0) throw new BadInputException(where + ": \"" + words[w] + "\" is not a key=value setting");
                String key = words[w].substring(0, eq).toLowerCase(Locale.ROOT), value = words[w].substring(eq + 1);
                if (!defaults.containsKey(key)) {
                    throw new BadInputException(where + ": " + name + " has no setting \"" + key + "\"; it has " + String.join(", ", defaults.keySet()));
                }
                s.put(key, value);
            }
            check(where, name, s);
            steps.add(new Step(name, s));
            quantized = name.equals("quantize");
        }
        if (steps.isEmpty()) throw new BadInputException(source + ": no steps");
        return new Recipe(steps);
    }

    /** Refuses a setting out of its range, naming it and its value. */
    private static void check(String where, String step, Map<String, String> s) throws BadInputException {
        for (Map.Entry<String, String> e : s.entrySet()) {
            String key = e.getKey(), v = e.getValue();
            switch (key) {
                case "student" -> {
                    if (v.isBlank()) throw new BadInputException(where + ": distill needs student=SPEC (spaces as underscores, e.g. student=mlp(784,100,10))");
                }
                case "epochs" -> range(where, step, key, v, 0, 1000, true);
                case "tries" -> range(where, step, key, v, 1, 10, true);
                case "clusters" -> range(where, step, key, v, 2, 256, true);
                case "samples" -> range(where, step, key, v, 1, 1_000_000, true);
                case "temperature" -> range(where, step, key, v, 1e-3, 1e3, false);
                case "alpha" -> range(where, step, key, v, 0, 1, false);
                case "lr" -> range(where, step, key, v, 1e-9, 10, false);
                case "sparsity" -> range(where, step, key, v, 0, 0.999, false);
                case "fraction" -> range(where, step, key, v, 0, 0.95, false);
                case "bits" -> oneOf(where, step, key, v, "8", "4");
                case "criterion" -> oneOf(where, step, key, v, "l1", "l2", "bn-gamma");
                case "scope" -> oneOf(where, step, key, v, "global", "layer");
                case "schedule" -> oneOf(where, step, key, v, "gradual", "oneshot");
                case "calibration" -> {
                    try {
                        dev.whittle.compress.quantize.Observers.parse(v);
                    } catch (IllegalArgumentException ex) {
                        throw new BadInputException(where + ": " + step + " calibration=" + v + ": " + ex.getMessage());
                    }
                }
                default -> throw new IllegalStateException("no check for setting " + key);
            }
        }
        if (step.equals("prune") && s.get("schedule").equals("gradual") && Integer.parseInt(s.get("epochs")) == 0) {
            throw new BadInputException(where + ": prune schedule=gradual prunes while fine-tuning: give epochs=1 or more, or schedule=oneshot");
        }
    }

    private static void range(String where, String step, String key, String v, double lo, double hi, boolean integer) throws BadInputException {
        double x;
        try {
            x = integer ? Integer.parseInt(v) : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new BadInputException(where + ": " + step + " " + key + "=" + v + " is not " + (integer ? "an integer" : "a number"));
        }
        if (!(x >= lo && x <= hi)) {
            throw new BadInputException(where + ": " + step + " " + key + "=" + v + " is outside " + fmt(lo) + " .. " + fmt(hi));
        }
    }

    private static String fmt(double x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }

    private static void oneOf(String where, String step, String key, String v, String... allowed) throws BadInputException {
        for (String a : allowed) if (a.equals(v)) return;
        throw new BadInputException(where + ": " + step + " " + key + "=" + v + " must be one of " + String.join(", ", allowed));
    }

    /** The recipe as text, every setting written out: it reads back as itself. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (Step s : steps) b.append(s.line()).append('\n');
        return b.toString();
    }
}
