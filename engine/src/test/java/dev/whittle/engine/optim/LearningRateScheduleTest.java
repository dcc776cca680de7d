package dev.whittle.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import org.junit.jupiter.api.Test;

/** The schedules against PyTorch's StepLR and CosineAnnealingLR (eta_min 0, T_max = epochs). */
class LearningRateScheduleTest {

    @Test
    void constantKeepsTheBaseRate() {
        LearningRateSchedule s = LearningRateSchedule.constant();
        for (int e = 0; e < 5; e++) assertEquals(0.3f, s.rate(0.3f, e, 5));
    }

    @Test
    void stepMultipliesByGammaEveryStepSizeEpochs() {
        // StepLR(step_size=2, gamma=0.5) from 1.0: 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125
        LearningRateSchedule s = LearningRateSchedule.step(2, 0.5f);
        float[] want = {1f, 1f, 0.5f, 0.5f, 0.25f, 0.25f, 0.125f};
        for (int e = 0; e < want.length; e++) assertEquals(want[e], s.rate(1f, e, want.length), 0f, "epoch " + e);
    }

    @Test
    void cosineFollowsHalfACosineFromBaseTowardsZero() {
        // 0.1 * (1 + cos(pi e / 4)) / 2 for e = 0..3: 0.1, 0.0853553, 0.05, 0.0146447
        LearningRateSchedule s = LearningRateSchedule.cosine();
        float[] want = {0.1f, 0.0853553f, 0.05f, 0.0146447f};
        for (int e = 0; e < 4; e++) assertEquals(want[e], s.rate(0.1f, e, 4), 1e-7f, "epoch " + e);
        // never reaches zero within the run: every epoch trains
        assertTrue(s.rate(0.1f, 99, 100) > 0f);
    }

    @Test
    void parseAcceptsTheDocumentedForms() throws BadInputException {
        assertEquals(0.5f, LearningRateSchedule.parse("constant").rate(0.5f, 7, 10));
        assertEquals(0.05f, LearningRateSchedule.parse(" Cosine ").rate(0.1f, 2, 4), 1e-8f);
        // gamma defaults to 0.1, as in PyTorch
        assertEquals(0.1f, LearningRateSchedule.parse("step:3").rate(1f, 3, 10), 1e-8f);
        assertEquals(1f, LearningRateSchedule.parse("step:3").rate(1f, 2, 10), 0f);
        assertEquals(0.25f, LearningRateSchedule.parse("STEP:1:0.5").rate(1f, 2, 10), 0f);
    }

    @Test
    void parseRejectsMalformedSchedules() {
        for (String bad : new String[] {"", "linear", "step", "step:", "step:0", "step:-2", "step:x", "step:2.5",
                "step:2:abc", "step:2:0.5:1", "step:2:-0.5", "step:2:0", "step:2:1e40", "cosine:3"}) {
            BadInputException e = assertThrows(BadInputException.class, () -> LearningRateSchedule.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--schedule"), e.getMessage());
        }
    }

    @Test
    void stepSizeBelowOneIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(0, 0.1f));
    }
}
