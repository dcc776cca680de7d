package dev.whittle.cli;

import dev.whittle.engine.BadInputException;
import dev.whittle.kernels.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command shares: thread count and the JSON report. */
final class CommonOptions {

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for the kernels (default: all ${sys:whittle.cores} cores).")
    Integer threads;

    @Option(names = "--report", paramLabel = "FILE.json", description = "Also write every figure printed as JSON.")
    Path report;

    static {
        System.setProperty("whittle.cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Rejects an output path that cannot become a file (a directory, or under a file) before any
     * work is done, so a long run does not end in an internal error with nothing saved.
     */
    static void checkOutputPath(String option, Path file) throws BadInputException {
        if (file == null) return;
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new BadInputException(option + ": " + file + " is a directory; give a file name");
        }
        for (Path p = abs.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new BadInputException(option + ": " + file + ": " + p + " is not a directory");
                }
                break;
            }
        }
    }

    /**
     * What every command does first, before any work: checks the {@code --report} path (as
     * {@link #checkOutputPath} does) and applies {@code --threads}; returns the thread count in use.
     */
    int begin() throws BadInputException {
        checkOutputPath("--report", report);
        if (threads != null) {
            if (threads < 1 || threads > 1024) {
                throw new BadInputException("--threads: must be between 1 and 1024, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return Parallel.threads();
    }
}
