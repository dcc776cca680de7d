package dev.whittle.engine.io;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) reader and writer: enough for safetensors headers and the
 * command line's reports, with no dependency outside the JDK.
 *
 * <p>{@link #parse} gives plain Java values: {@code LinkedHashMap<String, Object>} (key order
 * kept), {@code ArrayList<Object>}, {@code String}, {@code Long} for an integer that fits,
 * {@code Double} for any other number, {@code Boolean} and {@code null}. It is strict because it
 * reads files from strangers: no comments, no trailing commas, no leading zeros, no
 * {@code NaN}, no duplicate keys (which two readers could resolve differently), no raw control
 * characters in strings, and a nesting limit so that a hostile {@code [[[[...} cannot overflow
 * the stack.
 *
 * <p>{@link #write} and {@link #writePretty} take maps (string keys), lists and other
 * iterables, arrays (primitive ones too), strings, characters, enums (by name), numbers,
 * booleans and {@code null}. Floats and doubles are written with {@link Float#toString} and
 * {@link Double#toString} digits, the shortest that read back to the same value (for a float,
 * {@code (float)} of the parsed double is the float written); NaN and the infinities, which JSON
 * cannot hold, are written as {@code null}.
 */
public final class Json {

    /** How deep arrays and objects may nest before the input is refused. */
    static final int MAX_DEPTH = 512;

    private Json() {}

    /** Malformed JSON text; {@link #offset()} is the character index where reading stopped. */
    public static final class SyntaxException extends RuntimeException {

        private final int offset;

        SyntaxException(String problem, int offset) {
            super(problem + " at offset " + offset);
            this.offset = offset;
        }

        /** The index (in chars) into the parsed text where the problem was found. */
        public int offset() {
            return offset;
        }
    }

    /** Reads one JSON value, which must fill the whole text apart from surrounding whitespace. */
    public static Object parse(String text) {
        Parser parser = new Parser(text);
        parser.skipWhitespace();
        Object value = parser.value();
        parser.skipWhitespace();
        if (parser.pos < text.length()) throw parser.error("unexpected text after the JSON value");
        return value;
    }

    /** Compact JSON: no whitespace between tokens. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, false).value(value, 0);
        return out.toString();
    }

    /** Indented JSON (two spaces per level, one member or element per line) for people to read. */
    public static String writePretty(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, true).value(value, 0);
        return out.toString();
    }

    // ---------------------------------------------------------------- reading

    private static final class Parser {
        private final String text;
        private int pos;
        private int depth;

        Parser(String text) {
            this.text = text;
        }

        SyntaxException error(String problem) {
            return new SyntaxException(problem, pos);
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        Object value() {
            if (pos >= text.length()) throw error("unexpected end of input");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected character " + describe(c));
                }
            };
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error("unexpected character " + describe(text.charAt(pos)));
            pos += word.length();
            return value;
        }

        private Map<String, Object> object() {
            enter();
            pos++; // '{'
            Map<String, Object> members = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                depth--;
                return members;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') throw error("expected a string key");
                int keyStart = pos;
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object member = value();
                if (members.containsKey(key)) {
                    throw new SyntaxException("duplicate key " + quote(key), keyStart);
                }
                members.put(key, member);
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == '}') break;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
            depth--;
            return members;
        }

        private List<Object> array() {
            enter();
            pos++; // '['
            List<Object> elements = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                depth--;
                return elements;
            }
            while (true) {
                skipWhitespace();
                elements.add(value());
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == ']') break;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
            depth--;
            return elements;
        }

        private void enter() {
            if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }

        private String string() {
            pos++; // opening quote
            StringBuilder sb = null; // only needed once an escape appears
            int runStart = pos;
            while (true) {
                if (pos >= text.length()) throw error("unterminated string");
                char c = text.charAt(pos);
                if (c == '"') {
                    String s = sb == null ? text.substring(runStart, pos)
                            : sb.append(text, runStart, pos).toString();
                    pos++;
                    return s;
                }
                if (c < 0x20) throw error("control character " + describe(c) + " in a string (must be escaped)");
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) sb = new StringBuilder();
                sb.append(text, runStart, pos);
                pos++;
                if (pos >= text.length()) throw error("unterminated string");
                char e = text.charAt(pos);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> sb.append(unicodeEscape());
                    default -> throw error("invalid escape \\" + e);
                }
                pos++;
                runStart = pos;
            }
        }

        /** Reads the four hex digits after {@code \\u}; leaves {@code pos} on the last one. */
        private char unicodeEscape() {
            if (pos + 4 >= text.length()) throw error("unterminated \\u escape");
            int code = 0;
            for (int i = 1; i <= 4; i++) {
                int digit = Character.digit(text.charAt(pos + i), 16);
                if (digit < 0) {
                    pos += i;
                    throw error("invalid hex digit " + describe(text.charAt(pos)) + " in \\u escape");
                }
                code = code * 16 + digit;
            }
            pos += 4;
            return (char) code;
        }

        private Object number() {
            int start = pos;
            boolean integral = true;
            if (peek() == '-') pos++;
            if (peek() == '0') {
                pos++;
                if (isDigit(peek())) throw error("leading zero in a number");
            } else if (isDigit(peek())) {
                digits();
            } else {
                throw error("expected a digit");
            }
            if (peek() == '.') {
                integral = false;
                pos++;
                if (!isDigit(peek())) throw error("expected a digit after '.'");
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error("expected a digit in the exponent");
                digits();
            }
            String literal = text.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooBig) {
                    // falls through: an integer beyond long range is still a valid JSON number
                }
            }
            double d = Double.parseDouble(literal);
            if (Double.isInfinite(d)) throw new SyntaxException("number " + literal + " is out of double range", start);
            return d;
        }

        private void digits() {
            while (isDigit(peek())) pos++;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        /** The current char, or 0 at the end (0 is never valid where peek() is asked). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        private String describe(char c) {
            if (c >= 0x20 && c < 0x7f) return "'" + c + "'";
            return String.format("U+%04X", (int) c);
        }
    }

    // ---------------------------------------------------------------- writing

    private record Writer(StringBuilder out, boolean pretty) {

        void value(Object v, int depth) {
            switch (v) {
                case null -> out.append("null");
                case String s -> string(s);
                case Character c -> string(c.toString());
                case Boolean b -> out.append(b.booleanValue());
                case Enum<?> e -> string(e.name());
                case Number n -> number(n);
                case Map<?, ?> m -> object(m, depth);
                case Iterable<?> it -> array(it.iterator(), depth);
                default -> {
                    if (v.getClass().isArray()) {
                        arrayOf(v, depth);
                    } else {
                        throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
                    }
                }
            }
        }

        private void number(Number n) {
            switch (n) {
                case Float f when !Float.isFinite(f) -> out.append("null");
                case Double d when !Double.isFinite(d) -> out.append("null");
                case Float f -> out.append(floatDigits(f));
                case Double d -> out.append(Double.toString(d));
                case Long l -> out.append(l.longValue());
                case Integer i -> out.append(i.intValue());
                case Short s -> out.append(s.shortValue());
                case Byte b -> out.append(b.byteValue());
                case BigInteger b -> out.append(b);
                case BigDecimal b -> out.append(b);
                default -> number(n.doubleValue()); // AtomicLong, DoubleAdder and the like
            }
        }

        /**
         * {@link Float#toString} digits, unless reading them back through a double (as
         * {@link #parse} does) and rounding to float would land on a neighbour: the shortest
         * decimal for a float can sit so close to a halfway point between two floats that
         * the double in between rounds the wrong way (7.038531E-26 is one such case). Those
         * rare floats are written with the double's digits, which are exact.
         */
        private static String floatDigits(float f) {
            String digits = Float.toString(f);
            return (float) Double.parseDouble(digits) == f ? digits : Double.toString(f);
        }

        private void object(Map<?, ?> map, int depth) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON object keys must be strings, not " + e.getKey());
                }
                if (!first) out.append(',');
                first = false;
                newline(depth + 1);
                string(key);
                out.append(pretty ? ": " : ":");
                value(e.getValue(), depth + 1);
            }
            newline(depth);
            out.append('}');
        }

        private void array(Iterator<?> it, int depth) {
            if (!it.hasNext()) {
                out.append("[]");
                return;
            }
            out.append('[');
            boolean first = true;
            while (it.hasNext()) {
                if (!first) out.append(',');
                first = false;
                newline(depth + 1);
                value(it.next(), depth + 1);
            }
            newline(depth);
            out.append(']');
        }

        private void arrayOf(Object array, int depth) {
            int length = Array.getLength(array);
            // Boxing each element is fine here: this is report and header writing, not a hot loop.
            array(new Iterator<>() {
                int i;

                @Override
                public boolean hasNext() {
                    return i < length;
                }

                @Override
                public Object next() {
                    return Array.get(array, i++);
                }
            }, depth);
        }

        private void newline(int depth) {
            if (!pretty) return;
            out.append('\n');
            out.repeat(' ', 2 * depth);
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20 || isLoneSurrogate(s, i)) {
                            // A lone surrogate has no UTF-8 form; escaping it keeps the output
                            // encodable byte for byte and the string intact on the way back.
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        private static boolean isLoneSurrogate(String s, int i) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
            }
            if (Character.isLowSurrogate(c)) {
                return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
            }
            return false;
        }
    }

    /** {@code s} as a JSON string literal, for messages. */
    static String quote(String s) {
        return write(s);
    }
}
