package dev.whittle.engine.optim;

import dev.whittle.engine.BadInputException;

/** The learning rate for each epoch, from the base rate. */
@FunctionalInterface
public interface LearningRateSchedule {

    /** The rate for {@code epoch} (0-based) of {@code epochs}. */
    float rate(float base, int epoch, int epochs);

    /** The base rate throughout. */
    static LearningRateSchedule constant() {
        return (base, epoch, epochs) -> base;
    }

    /** Multiplies the rate by {@code gamma} every {@code stepSize} epochs (PyTorch's StepLR). */
    static LearningRateSchedule step(int stepSize, float gamma) {
        if (stepSize < 1) throw new IllegalArgumentException("step size must be >= 1, got " + stepSize);
        return (base, epoch, epochs) -> base * (float) StrictMath.pow(gamma, epoch / stepSize);
    }

    /** Cosine annealing from the base rate towards 0 over the run (Loshchilov and Hutter 2017, no restarts). */
    static LearningRateSchedule cosine() {
        return (base, epoch, epochs) -> (float) (base * 0.5 * (1 + StrictMath.cos(Math.PI * epoch / epochs)));
    }

    /** Parses {@code constant}, {@code cosine}, or {@code step:N[:gamma]} (gamma defaults to 0.1). */
    static LearningRateSchedule parse(String text) throws BadInputException {
        String s = text.strip().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("constant")) return constant();
        if (s.equals("cosine")) return cosine();
        if (s.startsWith("step:")) {
            String[] parts = s.split(":");
            try {
                int n = Integer.parseInt(parts[1]);
                float gamma = parts.length > 2 ? Float.parseFloat(parts[2]) : 0.1f;
                // a gamma of 0 or below would stop or reverse training, an infinite one blow it up
                if (n < 1 || parts.length > 3 || !(gamma > 0f) || Float.isInfinite(gamma)) throw new NumberFormatException();
                return step(n, gamma);
            } catch (RuntimeException e) {
                throw new BadInputException("--schedule: \"" + text + "\" is not step:N[:gamma] with N >= 1 and gamma > 0");
            }
        }
        throw new BadInputException("--schedule: unknown schedule \"" + text + "\"; use constant, cosine or step:N[:gamma]");
    }
}
