package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The input normalisation a model file records: its JSON round trip, its arithmetic, and bad records. */
class InputNormalizationTest {

    private static final Path FILE = Path.of("model.safetensors");

    private static InputNormalization read(String json) throws BadInputException {
        return InputNormalization.of(Map.of(InputNormalization.KEY, json), FILE).orElseThrow();
    }

    @Test
    void aRecordReadsBackToTheSameArithmetic() throws BadInputException {
        // values with long expansions: the JSON must carry every digit
        InputNormalization n = new InputNormalization(255, new double[] {0.13066048388021196}, new double[] {0.3081078038564624});
        InputNormalization back = read(n.toJson());
        byte[] pixels = {0, 1, 127, (byte) 128, (byte) 255};
        float[] want = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) want[i] = (float) (((pixels[i] & 0xFF) / 255.0 - 0.13066048388021196) / 0.3081078038564624);
        assertArrayEquals(want, back.apply(pixels));
        float[] asFloats = {0, 1, 127, 128, 255};
        assertArrayEquals(want, back.apply(asFloats));
        // per-column statistics repeat along the sample
        InputNormalization table = read(new InputNormalization(1, new double[] {1, 10}, new double[] {2, 4}).toJson());
        assertArrayEquals(new float[] {0.5f, 0.5f, -0.5f, -2.5f}, table.apply(new float[] {2, 12, 0, 0}));
    }

    @Test
    void absentIsEmptyAndBadRecordsNameTheFile() throws BadInputException {
        assertTrue(InputNormalization.of(Map.of(), FILE).isEmpty());
        for (String bad : new String[] {"[1,2]", "{\"scale\":255,\"mean\":[0.1]}", "{\"scale\":0,\"mean\":[0.1],\"std\":[0.3]}",
                "{\"scale\":255,\"mean\":[0.1],\"std\":[0]}", "{\"scale\":255,\"mean\":[0.1,0.2],\"std\":[0.3]}", "{\"scale\":255,",
                "{\"scale\":\"x\",\"mean\":[0.1],\"std\":[0.3]}"}) {
            BadInputException e = assertThrows(BadInputException.class, () -> read(bad), bad);
            assertTrue(e.getMessage().startsWith(FILE + ": " + InputNormalization.KEY), e.getMessage());
        }
    }

    @Test
    void theConstructorRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new InputNormalization(255, new double[0], new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new InputNormalization(255, new double[] {Double.NaN}, new double[] {1}));
        assertEquals("{\"scale\":1.0,\"mean\":[0.0],\"std\":[1.0]}", new InputNormalization(1, new double[] {0}, new double[] {1}).toJson());
    }
}
