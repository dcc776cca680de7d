package dev.whittle.compress.quantize;

import java.util.function.Supplier;

/** Placeholder until the observer family lands: only min-max. */
public final class Observers {

    private Observers() {}

    public static Supplier<Observer> parse(String spec) {
        if ("minmax".equals(spec)) return MinMaxObserver::new;
        throw new IllegalArgumentException("unknown calibration \"" + spec + "\"; use minmax");
    }
}
