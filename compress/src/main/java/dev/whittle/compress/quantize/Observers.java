package dev.whittle.compress.quantize;

import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The activation observers by name, as a calibration is configured on the command line:
 * {@code minmax}, {@code ema}, {@code percentile:P}, {@code mse}, {@code entropy}. Each name gives
 * a supplier, since every quantized tensor needs an observer of its own.
 */
public final class Observers {

    /** The valid forms, for messages. */
    public static final String FORMS = "minmax, ema, percentile:P (50 < P <= 100, e.g. percentile:99.99), mse or entropy";

    private static final Pattern NUMBER = Pattern.compile("[0-9]+(\\.[0-9]+)?");

    private Observers() {}

    /**
     * The observer {@code spec} names: {@code minmax} ({@link MinMaxObserver}), {@code ema}
     * ({@link MovingAverageMinMaxObserver}, constant 0.01), {@code percentile:P}
     * ({@link PercentileObserver}), {@code mse} ({@link MseObserver}), {@code entropy}
     * ({@link EntropyObserver}).
     *
     * @throws IllegalArgumentException naming the spec and the valid forms, if it is none of them
     */
    public static Supplier<Observer> parse(String spec) {
        if (spec == null) throw new IllegalArgumentException("no observer given: expected " + FORMS);
        String s = spec.strip();
        Supplier<Observer> named = switch (s) {
            case "minmax" -> MinMaxObserver::new;
            case "ema" -> MovingAverageMinMaxObserver::new;
            case "mse" -> MseObserver::new;
            case "entropy" -> EntropyObserver::new;
            default -> null;
        };
        if (named != null) return named;
        if (s.startsWith("percentile:")) {
            String p = s.substring("percentile:".length());
            if (NUMBER.matcher(p).matches()) {
                double percentile = Double.parseDouble(p);
                if (percentile > 50 && percentile <= 100) return () -> new PercentileObserver(percentile);
            }
            throw new IllegalArgumentException("observer '" + spec + "': the percentile must be a number in (50, 100]; expected " + FORMS);
        }
        throw new IllegalArgumentException("unknown observer '" + spec + "': expected " + FORMS);
    }
}
