package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValueKeepingKeyOrder() {
        Object v = Json.parse(" {\"z\": 1, \"a\": [true, false, null, -2.5e3, \"s\"], \"m\": {}} ");
        Map<?, ?> map = assertInstanceOf(LinkedHashMap.class, v);
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(map.keySet()));
        assertEquals(1L, map.get("z"));
        assertEquals(Arrays.asList(true, false, null, -2500.0, "s"), map.get("a"));
        assertEquals(Map.of(), map.get("m"));
    }

    @Test
    void integersThatFitAreLongsOthersAreDoubles() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(9.223372036854775808E18, Json.parse("9223372036854775808"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(1.0, Json.parse("1.0"));
        assertEquals(100.0, Json.parse("1E2"));
        assertEquals(0.015, Json.parse("1.5e-2"));
    }

    @Test
    void decodesEscapesIncludingSurrogatePairs() {
        assertEquals("q\"b\\s/\b\f\n\r\t\u00e9\uD83D\uDE00",
                Json.parse("\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00E9\\ud83d\\ude00\""));
        assertEquals("\u00e9\uD83D\uDE00", Json.parse("\"\u00e9\uD83D\uDE00\""));
    }

    @ParameterizedTest(name = "[{index}] {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "``                   | 0 | unexpected end of input",
        "`[1,]`               | 3 | unexpected character ']'",
        "`{\"a\":1,}`         | 7 | expected a string key",
        "`{'a':1}`            | 1 | expected a string key",
        "`{\"a\" 1}`          | 5 | expected ':'",
        "`[1 2]`              | 3 | expected ',' or ']'",
        "`012`                | 1 | leading zero",
        "`1.`                 | 2 | expected a digit after '.'",
        "`.5`                 | 0 | unexpected character '.'",
        "`-`                  | 1 | expected a digit",
        "`1e`                 | 2 | expected a digit in the exponent",
        "`1e999`              | 0 | out of double range",
        "`NaN`                | 0 | unexpected character 'N'",
        "`nul`                | 0 | unexpected character 'n'",
        "`[1] // c`           | 4 | unexpected text after the JSON value",
        "`\"abc`              | 4 | unterminated string",
        "`\"a\\x\"`           | 3 | invalid escape \\x",
        "`\"\\u12G4\"`        | 5 | invalid hex digit 'G'",
        "`{\"k\":1,\"k\":2}`  | 7 | duplicate key \"k\"",
    })
    void rejectsMalformedTextAtTheRightOffset(String text, int offset, String problem) {
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(text));
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertTrue(e.getMessage().endsWith("at offset " + offset), e.getMessage());
    }

    @Test
    void rejectsRawControlCharactersInStrings() {
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse("\"a\nb\""));
        assertEquals(2, e.offset());
        assertTrue(e.getMessage().contains("U+000A"), e.getMessage());
    }

    @Test
    void refusesHostileNestingInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(100_000);
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(deep));
        assertEquals(Json.MAX_DEPTH, e.offset());
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertInstanceOf(List.class, Json.parse(ok));
    }

    @Test
    void writesCompactly() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\n\u0001");
        m.put("n", List.of(1, 2L, (short) 3, (byte) 4, 0.5, 0.1f));
        m.put("e", List.of());
        m.put("o", Map.of());
        m.put("b", true);
        m.put("z", null);
        assertEquals("{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":[1,2,3,4,0.5,0.1],\"e\":[],\"o\":{},\"b\":true,\"z\":null}",
                Json.write(m));
    }

    @Test
    void writesPrettyWithTwoSpaceIndent() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "prune");
        m.put("sizes", new int[] {1, 2});
        m.put("empty", List.of());
        m.put("final", Map.of("accuracy", 0.98));
        assertEquals("""
                {
                  "command": "prune",
                  "sizes": [
                    1,
                    2
                  ],
                  "empty": [],
                  "final": {
                    "accuracy": 0.98
                  }
                }""", Json.writePretty(m));
    }

    @Test
    void writesNonFiniteNumbersAsNull() {
        assertEquals("[null,null,null,null]",
                Json.write(List.of(Float.NaN, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Double.NaN)));
    }

    @Test
    void writesArraysEnumsAndCharacters() {
        assertEquals("[[1.5,-0.0],[true],[\"F32\"],\"x\",[9]]",
                Json.write(List.of(new float[] {1.5f, -0f}, new boolean[] {true}, new DType[] {DType.F32}, 'x', new long[] {9})));
    }

    @Test
    void rejectsWhatJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, "a")));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void floatsAndDoublesRoundTripBitExact() {
        Random random = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isFinite(f)) continue;
            double back = (Double) Json.parse(Json.write(f));
            assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits((float) back), "float " + f);
            double d = Double.longBitsToDouble(random.nextLong());
            if (!Double.isFinite(d)) continue;
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits((Double) Json.parse(Json.write(d))), "double " + d);
        }
        // 0x15ae43fd is a float whose shortest decimal, 7.038531E-26, rounds to a neighbour
        // when read as a double and then narrowed to float.
        for (float f : new float[] {Float.MIN_VALUE, Float.MAX_VALUE, -0f, 1e-45f, 3.4028235e38f, 1.17549435E-38f,
                Float.intBitsToFloat(0x15ae43fd), -Float.intBitsToFloat(0x15ae43fd)}) {
            assertEquals(Float.floatToRawIntBits(f), Float.floatToRawIntBits((float) (double) (Double) Json.parse(Json.write(f))));
        }
    }

    @Test
    void loneSurrogatesAreEscapedSoTheOutputIsValidUtf8() {
        String s = "a\uD800b\uDC00\uD83D\uDE00";
        String json = Json.write(s);
        assertEquals("\"a\\ud800b\\udc00\uD83D\uDE00\"", json);
        assertEquals(s, Json.parse(json));
    }

    @Test
    void writeThenParseGivesTheSameValue() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("unicode ✓ \u2028", "\t tab, \"quoted\", \\ back");
        m.put("list", Arrays.asList(1L, -2L, 3.25, null, false, List.of(List.of()), Map.of("k", "v")));
        assertEquals(m, Json.parse(Json.write(m)));
        assertEquals(m, Json.parse(Json.writePretty(m)));
    }
}
