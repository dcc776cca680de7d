package dev.whittle.datasets;

import dev.whittle.engine.BadInputException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A numeric table read from a comma-separated file: every column but the last is a feature,
 * the last is an integer class label 0..C-1. The first line is a header when none of its cells
 * is a number; otherwise it is data like every other line, so a typo in the first row is
 * reported rather than silently dropped as a "header". Blank lines are skipped.
 *
 * @param values row-major features, {@code rows * features} of them, as read (not standardised)
 */
record CsvTable(String source, int rows, int features, float[] values, int[] labels, int numClasses) {

    /** Larger files are refused before reading: tables here are meant to be small. */
    static final long MAX_FILE_BYTES = 1L << 30;

    /** The most classes a label column may imply; a larger label is almost surely a wrong column. */
    static final int MAX_CLASSES = 10_000;

    static CsvTable read(Path file) throws BadInputException {
        String source = file.toString();
        try {
            long length = Files.size(file);
            if (length > MAX_FILE_BYTES) {
                throw new BadInputException(source + ": file is " + length + " bytes, more than the "
                        + MAX_FILE_BYTES + "-byte limit for a CSV table");
            }
            try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                return parse(reader, source);
            }
        } catch (NoSuchFileException e) {
            throw new BadInputException(source + ": no such file");
        } catch (AccessDeniedException e) {
            throw new BadInputException(source + ": permission denied");
        } catch (CharacterCodingException e) {
            throw new BadInputException(source + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new BadInputException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static CsvTable parse(BufferedReader reader, String source) throws IOException, BadInputException {
        int columns = -1;
        int columnsLine = 0;
        int rows = 0;
        float[] values = new float[1024];
        int[] labels = new int[256];
        int maxLabel = 0;
        boolean sawHeader = false;

        String line;
        int lineNumber = 0;
        while ((line = reader.readLine()) != null) {
            lineNumber++;
            if (line.isBlank()) continue;
            String[] cells = line.split(",", -1);
            if (columns < 0 && !sawHeader && rows == 0 && noneNumeric(cells)) {
                sawHeader = true;
                columns = cells.length;
                columnsLine = lineNumber;
                continue;
            }
            if (columns < 0) {
                columns = cells.length;
                columnsLine = lineNumber;
            }
            if (columns < 2) {
                throw new BadInputException(source + " line " + lineNumber + ": " + cells.length
                        + " column; a table needs at least one feature column and a label column");
            }
            if (cells.length != columns) {
                throw new BadInputException(source + " line " + lineNumber + ": " + cells.length + " columns, but line "
                        + columnsLine + " has " + columns);
            }
            int features = columns - 1;
            if ((long) (rows + 1) * features > IdxReader.MAX_DATA_BYTES / Float.BYTES) {
                throw new BadInputException(source + " line " + lineNumber + ": the table has more values than whittle holds in memory");
            }
            if ((rows + 1) * features > values.length) {
                values = Arrays.copyOf(values, (int) Math.min(IdxReader.MAX_DATA_BYTES / Float.BYTES,
                        Math.max(2L * values.length, (long) (rows + 1) * features)));
            }
            if (rows == labels.length) labels = Arrays.copyOf(labels, 2 * labels.length);
            for (int c = 0; c < features; c++) {
                values[rows * features + c] = feature(cells[c], source, lineNumber, c + 1);
            }
            int label = label(cells[features], source, lineNumber, columns);
            labels[rows] = label;
            maxLabel = Math.max(maxLabel, label);
            rows++;
        }
        if (rows == 0) {
            throw new BadInputException(source + (sawHeader ? ": has a header line but no data rows" : ": file is empty"));
        }
        int first = labels[0];
        boolean twoClasses = false;
        for (int r = 1; r < rows && !twoClasses; r++) twoClasses = labels[r] != first;
        if (!twoClasses) {
            throw new BadInputException(source + ": every row has label " + first + "; a classifier needs rows of at least two classes");
        }
        int features = columns - 1;
        return new CsvTable(source, rows, features, Arrays.copyOf(values, rows * features), Arrays.copyOf(labels, rows),
                maxLabel + 1);
    }

    private static boolean noneNumeric(String[] cells) {
        for (String cell : cells) {
            if (!Double.isNaN(parseNumber(cell.strip()))) return false;
        }
        return true;
    }

    private static float feature(String cell, String source, int line, int column) throws BadInputException {
        String text = cell.strip();
        double value = parseNumber(text);
        if (Double.isNaN(value)) throw new BadInputException(where(source, line, column) + describe(text) + " is not a number");
        float f = (float) value;
        if (!Float.isFinite(f)) {
            throw new BadInputException(where(source, line, column) + "\"" + text + "\" is too large for a float");
        }
        return f;
    }

    private static int label(String cell, String source, int line, int column) throws BadInputException {
        String text = cell.strip();
        double v = parseNumber(text);
        String where = where(source, line, column) + "label ";
        if (Double.isNaN(v)) throw new BadInputException(where + describe(text) + " is not a number");
        if (v < 0) throw new BadInputException(where + "\"" + text + "\" is negative; labels are 0, 1, 2, ...");
        if (v != Math.rint(v)) throw new BadInputException(where + "\"" + text + "\" is not an integer");
        if (v >= MAX_CLASSES) {
            throw new BadInputException(where + "\"" + text + "\" is larger than " + (MAX_CLASSES - 1)
                    + "; is the label really the last column?");
        }
        return (int) v;
    }

    private static String where(String source, int line, int column) {
        return source + " line " + line + " column " + column + ": ";
    }

    private static String describe(String text) {
        return text.isEmpty() ? "the empty cell" : "\"" + text + "\"";
    }

    /**
     * A plain decimal number ({@code -1.5}, {@code 3e-2}; possibly infinite if out of range), or
     * NaN if the text is not one. Double.parseDouble alone would also take "NaN", "Infinity",
     * hexadecimal and a trailing 'd' or 'f', none of which belong in a data table.
     */
    private static double parseNumber(String text) {
        if (text.isEmpty()) return Double.NaN;
        boolean digit = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch >= '0' && ch <= '9') digit = true;
            else if (ch != '+' && ch != '-' && ch != '.' && ch != 'e' && ch != 'E') return Double.NaN;
        }
        if (!digit) return Double.NaN;
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
