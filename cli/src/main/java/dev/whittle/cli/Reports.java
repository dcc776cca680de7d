package dev.whittle.cli;

import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.TemporaryFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** Writes a JSON report atomically (temporary file, then rename), so a crash leaves no half report. */
final class Reports {

    private Reports() {}

    /** A speed ratio (old time over new) in words: "2.31x faster" or, below 1, "1.73x slower". */
    static String faster(double ratio, String format) {
        return ratio >= 1 ? String.format(java.util.Locale.ROOT, format, ratio) + "x faster"
                : String.format(java.util.Locale.ROOT, format, 1 / ratio) + "x slower";
    }

    /** "3.2x smaller", or "1.5x larger" when the ratio (old size / new size) is below 1. */
    static String smaller(double ratio, String format) {
        return ratio >= 1 ? String.format(java.util.Locale.ROOT, format, ratio) + "x smaller"
                : String.format(java.util.Locale.ROOT, format, 1 / ratio) + "x larger";
    }

    static void write(Path file, Map<String, Object> report) throws IOException {
        writeText(file, Json.writePretty(report) + "\n");
    }

    /** Writes {@code text} to {@code file} atomically. */
    static void writeText(Path file, String text) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = TemporaryFiles.createBeside(abs.getParent(), abs.getFileName().toString());
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
