package dev.whittle.datasets;

import dev.whittle.engine.Dataset;

import java.util.Objects;

/**
 * A dataset's two splits: {@code train} for everything that learns, tunes or decides, and
 * {@code test} only for reported test accuracy. Both are normalised with statistics of
 * {@code train}, and both have the same sample shape and number of classes.
 */
public record DataSplit(Dataset train, Dataset test) {

    public DataSplit {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
    }
}
