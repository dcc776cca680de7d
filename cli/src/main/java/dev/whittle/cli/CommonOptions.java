package dev.whittle.cli;

import dev.whittle.kernels.Parallel;
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

    /** Applies {@code --threads}; returns the count in use. */
    int applyThreads() throws dev.whittle.engine.BadInputException {
        if (threads != null) {
            if (threads < 1 || threads > 1024) {
                throw new dev.whittle.engine.BadInputException("--threads: must be between 1 and 1024, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return Parallel.threads();
    }
}
