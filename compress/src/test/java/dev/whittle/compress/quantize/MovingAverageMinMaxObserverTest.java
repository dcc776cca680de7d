package dev.whittle.compress.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MovingAverageMinMaxObserverTest {

    @Test
    void theRangeFollowsTheBatchExtremesByTheAveragingConstant() {
        var o = new MovingAverageMinMaxObserver(0.5f);
        o.observe(new float[] {-1f, 0f, 3f}, 0, 3);        // sets [-1, 3]
        assertEquals(-1f, o.min());
        assertEquals(3f, o.max());
        o.observe(new float[] {9f, -3f, 1f, 5f}, 1, 3);    // batch [-3, 5]: -1 + .5(-3 + 1) = -2, 3 + .5(5 - 3) = 4
        assertEquals(-2f, o.min());
        assertEquals(4f, o.max());
        o.observe(new float[] {2f, 0f}, 0, 2);             // batch [0, 2]: -2 + .5(0 + 2) = -1, 4 + .5(2 - 4) = 3
        assertEquals(-1f, o.min());
        assertEquals(3f, o.max());
        assertEquals(8, o.count());
        var p = o.int8(false);
        assertEquals(4f / 255, p.scales()[0], 1e-7);
        assertEquals(-128 + 64, p.zeroPoints()[0]);          // -128 - rint(-1 / (4/255)) = -128 + 64
        assertEquals(3f / 127, o.int8(true).scales()[0], 1e-7);
    }

    @Test
    void theDefaultIsPyTorchs() {
        var o = new MovingAverageMinMaxObserver();
        o.observe(new float[] {0f, 10f}, 0, 2);
        o.observe(new float[] {0f, 110f}, 0, 2);            // 10 + 0.01 (110 - 10) = 11
        assertEquals(11f, o.max(), 1e-5);
        assertEquals(0f, o.min());
    }

    @Test
    void badValuesAndConstantsAreRefused() {
        var o = new MovingAverageMinMaxObserver();
        assertThrows(IllegalArgumentException.class, () -> o.observe(new float[] {1f, Float.NaN}, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> o.observe(new float[] {Float.NEGATIVE_INFINITY}, 0, 1));
        assertThrows(IllegalStateException.class, () -> o.int8(false));
        assertThrows(IllegalArgumentException.class, () -> new MovingAverageMinMaxObserver(0f));
        assertThrows(IllegalArgumentException.class, () -> new MovingAverageMinMaxObserver(1.5f));
        assertThrows(IllegalArgumentException.class, () -> new MovingAverageMinMaxObserver(Float.NaN));
    }
}
