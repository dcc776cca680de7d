package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.Quantization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every observer owes: the parser, all-zero data, constant data, and refused values. */
class ObserversTest {

    static final List<String> FORMS = List.of("minmax", "ema", "percentile:99.99", "mse", "entropy");

    @Test
    void theParserGivesAFreshObserverOfEachForm() {
        assertInstanceOf(MinMaxObserver.class, Observers.parse("minmax").get());
        assertInstanceOf(MovingAverageMinMaxObserver.class, Observers.parse("ema").get());
        assertInstanceOf(MseObserver.class, Observers.parse("mse").get());
        assertInstanceOf(EntropyObserver.class, Observers.parse(" entropy ").get());
        PercentileObserver p = assertInstanceOf(PercentileObserver.class, Observers.parse("percentile:99.99").get());
        assertEquals(99.99, p.percentile());
        assertEquals(100.0, ((PercentileObserver) Observers.parse("percentile:100").get()).percentile());
        var s = Observers.parse("mse");
        assertNotSame(s.get(), s.get());
    }

    @Test
    void theParserRefusesWhatIsNotAForm() {
        for (String bad : new String[] {"percentile:0", "percentile:abc", "foo", "percentile:50", "percentile:",
                "percentile:100.5", "percentile:NaN", "percentile:99f", "percentile", "MSE", ""}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Observers.parse(bad), bad);
            assertTrue(e.getMessage().contains("minmax, ema, percentile:P") && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Observers.parse(null));
    }

    @Test
    void allZeroDataGetsAValidScaleAndZeroStaysExact() {
        for (String form : FORMS) {
            Observer o = Observers.parse(form).get();
            o.observe(new float[100], 0, 100);
            o.observe(new float[7], 2, 5);
            for (boolean symmetric : new boolean[] {false, true}) {
                QuantParams p = o.int8(symmetric);
                float s = p.scales()[0];
                assertTrue(s > 0 && Float.isFinite(s), form + ": scale " + s);
                int q = Quantization.quantize(0f, s, p.zeroPoints()[0], p.range());
                assertEquals(0f, Quantization.dequantize(q, s, p.zeroPoints()[0]), form);
            }
        }
    }

    @Test
    void constantDataIsCovered() {
        for (String form : FORMS) {
            Observer o = Observers.parse(form).get();
            float[] x = new float[64];
            java.util.Arrays.fill(x, -3f);
            o.observe(x, 0, 64);
            o.observe(x, 0, 10);
            for (boolean symmetric : new boolean[] {false, true}) {
                QuantParams p = o.int8(symmetric);
                float s = p.scales()[0];
                int q = Quantization.quantize(-3f, s, p.zeroPoints()[0], p.range());
                assertEquals(-3f, Quantization.dequantize(q, s, p.zeroPoints()[0]), 0.5 * s, form + " " + symmetric);
            }
        }
    }

    @Test
    void nanIsRefusedAndSoIsInfinity() {
        for (String form : FORMS) {
            Observer o = Observers.parse(form).get();
            o.observe(new float[] {1f, 2f}, 0, 2);
            assertThrows(IllegalArgumentException.class, () -> o.observe(new float[] {0f, Float.NaN}, 0, 2), form);
            if (!form.equals("minmax")) {   // MinMaxObserver, which predates these, lets ±∞ through
                assertThrows(IllegalArgumentException.class, () -> o.observe(new float[] {Float.POSITIVE_INFINITY}, 0, 1), form);
                assertThrows(IllegalArgumentException.class, () -> o.observe(new float[] {Float.NEGATIVE_INFINITY}, 0, 1), form);
            }
            assertTrue(o.int8(false).scales()[0] < 1, form + ": the refused batches changed nothing");
        }
    }

    @Test
    void nothingObservedIsAnError() {
        for (String form : FORMS) {
            Observer o = Observers.parse(form).get();
            assertThrows(IllegalStateException.class, () -> o.int8(true), form);
            assertThrows(IllegalStateException.class, () -> o.int8(false), form);
        }
    }
}
