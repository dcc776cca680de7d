package dev.whittle.compress.pipeline;

import dev.whittle.compress.coreset.Subset;
import dev.whittle.engine.Dataset;
import dev.whittle.engine.Rng;
import java.util.Arrays;

/**
 * The training split cut in two: a seeded share for validation (what the accuracy budget is
 * judged on, so that no decision looks at the test split) and the rest. DESIGN.md's validation
 * split; see {@link CompressionPipeline} for why its steps still fine-tune on all of it.
 */
public record ValidationSplit(Dataset train, Dataset validation) {

    /** DESIGN.md's validation share of the training split. */
    public static final double FRACTION = 0.1;

    /** Holds out {@code fraction} of {@code train}, chosen by a shuffle seeded with {@code seed}. */
    public static ValidationSplit of(Dataset train, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) throw new IllegalArgumentException("fraction must be in (0, 1), got " + fraction);
        int n = train.size(), held = (int) Math.round(n * fraction);
        if (held < 1 || held >= n) throw new IllegalArgumentException(n + " training samples cannot spare a validation share of " + fraction);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        new Rng(seed ^ 0x5EED_0F_7A1DL).shuffle(order);
        int[] validation = Arrays.copyOf(order, held), rest = Arrays.copyOfRange(order, held, n);
        Arrays.sort(validation);
        Arrays.sort(rest);   // fine-tuning shuffles by its own seed; keep the subset in the data's order
        return new ValidationSplit(new Subset(train, rest), new Subset(train, validation));
    }
}
