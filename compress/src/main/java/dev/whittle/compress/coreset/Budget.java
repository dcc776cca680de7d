package dev.whittle.compress.coreset;

/**
 * How many samples to keep of each class: a fixed number ({@code --per-class N}) or a fraction of
 * the class ({@code --fraction F}, rounded, at least one). Either way the subset is class-balanced
 * in the sense that every class gets its share, never one class's leftovers.
 */
public record Budget(int perClass, double fraction) {

    public Budget {
        if ((perClass > 0) == (fraction > 0)) {
            throw new IllegalArgumentException("give a positive per-class count or a fraction, not both: " + perClass + ", " + fraction);
        }
        if (fraction > 1 || Double.isNaN(fraction)) throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
    }

    public static Budget perClass(int n) {
        return new Budget(n, 0);
    }

    public static Budget fraction(double f) {
        return new Budget(0, f);
    }

    /** The number to keep of a class holding {@code classSize} samples (never more than it holds). */
    public int countFor(int classSize) {
        int want = perClass > 0 ? perClass : (int) Math.max(1, Math.round(fraction * classSize));
        return Math.min(want, classSize);
    }

    @Override
    public String toString() {
        return perClass > 0 ? perClass + " per class" : fraction + " of each class";
    }
}
