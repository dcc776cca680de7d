package dev.whittle.compress.coreset;

/**
 * Counts forgetting events (Toneva et al. 2019): an example is forgotten when it was classified
 * correctly the last time it was seen and is now misclassified. An example never classified
 * correctly is "unlearned" and ranks above every learned one (their convention: infinitely many
 * forgetting events).
 */
public final class ForgettingCounter {

    private final int[] forgotten;
    private final boolean[] lastCorrect;
    private final boolean[] learned;

    public ForgettingCounter(int examples) {
        forgotten = new int[examples];
        lastCorrect = new boolean[examples];
        learned = new boolean[examples];
    }

    /** Records that example {@code i} was just classified correctly or not. */
    public void record(int i, boolean correct) {
        if (lastCorrect[i] && !correct) forgotten[i]++;
        lastCorrect[i] = correct;
        learned[i] |= correct;
    }

    /** The forgetting events of example {@code i} so far. */
    public int forgettingEvents(int i) {
        return forgotten[i];
    }

    public boolean learned(int i) {
        return learned[i];
    }

    /** The score to rank by: the event count, or infinity for an example never learned. */
    public double score(int i) {
        return learned[i] ? forgotten[i] : Double.POSITIVE_INFINITY;
    }

    public double[] scores() {
        double[] s = new double[forgotten.length];
        for (int i = 0; i < s.length; i++) s[i] = score(i);
        return s;
    }
}
