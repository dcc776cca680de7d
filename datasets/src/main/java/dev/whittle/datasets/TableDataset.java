package dev.whittle.datasets;

import dev.whittle.engine.Dataset;

import java.util.Objects;

/**
 * Rows of a numeric table, already standardised (tables are small, so they are kept as floats
 * and {@code sample} is a copy). Immutable, so any number of threads may read it.
 */
final class TableDataset implements Dataset {

    private final String name;
    private final int features;
    private final float[] values;
    private final int[] labels;
    private final int numClasses;
    /** The training columns' mean and standard deviation the values were standardised with (null if unknown). */
    private final double[] mean, std;

    TableDataset(String name, int features, float[] values, int[] labels, int numClasses) {
        this(name, features, values, labels, numClasses, null, null);
    }

    TableDataset(String name, int features, float[] values, int[] labels, int numClasses, double[] mean, double[] std) {
        if ((long) labels.length * features != values.length) {
            throw new IllegalArgumentException(labels.length + " rows of " + features + " features do not fit "
                    + values.length + " values");
        }
        this.name = name;
        this.features = features;
        this.values = values;
        this.labels = labels;
        this.numClasses = numClasses;
        this.mean = mean;
        this.std = std;
    }

    /** The standardisation, as a model file records it; empty when not known. */
    java.util.Optional<dev.whittle.engine.io.InputNormalization> normalization() {
        return mean == null ? java.util.Optional.empty() : java.util.Optional.of(new dev.whittle.engine.io.InputNormalization(1, mean, std));
    }

    /**
     * Train and test datasets from {@code table}, split by {@code split}, with every feature column
     * standardised by the training rows' mean and (population) standard deviation; a constant
     * column is left centred but unscaled, since it has no spread to divide by.
     */
    static DataSplit standardised(String name, CsvTable table, StratifiedSplit split) {
        int f = table.features();
        float[] v = table.values();
        double[] mean = new double[f];
        double[] std = new double[f];
        for (int row : split.train()) {
            for (int c = 0; c < f; c++) mean[c] += v[row * f + c];
        }
        for (int c = 0; c < f; c++) mean[c] /= split.train().length;
        // Two passes (mean, then squared deviations) rather than sum of squares, which cancels
        // badly for columns with a large offset such as years or prices.
        for (int row : split.train()) {
            for (int c = 0; c < f; c++) {
                double d = v[row * f + c] - mean[c];
                std[c] += d * d;
            }
        }
        for (int c = 0; c < f; c++) {
            double s = Math.sqrt(std[c] / split.train().length);
            std[c] = s > 0 ? s : 1;
        }
        return new DataSplit(select(name + "/train", table, split.train(), mean, std),
                select(name + "/test", table, split.test(), mean, std));
    }

    private static TableDataset select(String name, CsvTable table, int[] rows, double[] mean, double[] std) {
        int f = table.features();
        float[] out = new float[rows.length * f];
        int[] labels = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            int row = rows[i];
            labels[i] = table.labels()[row];
            for (int c = 0; c < f; c++) {
                out[i * f + c] = (float) ((table.values()[row * f + c] - mean[c]) / std[c]);
            }
        }
        return new TableDataset(name, f, out, labels, table.numClasses(), mean, std);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int[] sampleShape() {
        return new int[] {features};
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, labels.length)];
    }

    @Override
    public void sample(int index, float[] dst, int offset) {
        Objects.checkIndex(index, labels.length);
        System.arraycopy(values, index * features, dst, offset, features);
    }
}
