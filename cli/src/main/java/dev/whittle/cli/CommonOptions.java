package dev.whittle.cli;

import dev.whittle.engine.BadInputException;
import dev.whittle.kernels.Parallel;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options every command shares: thread count and the JSON report. */
final class CommonOptions {

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for the kernels (default: all ${sys:whittle.cores} cores).")
    Integer threads;

    @Option(names = "--report", paramLabel = "FILE.json", description = "Also write every figure printed as JSON.")
    Path report;

    /** The options that name files or folders a command writes; every other path option is read. */
    static final Set<String> OUTPUTS = Set.of("--out", "--report", "--html", "--out-dir");

    /** The command this mixin belongs to, for {@link #checkOutputs}. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    static {
        System.setProperty("whittle.cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Before any work, for every output option given: it must not be the file of an input option
     * or of another output (a report written over the model just read, a model saved over its own
     * input; symbolic links resolved), and the folder it goes in, or the nearest one that exists,
     * must take a new file (a probe is created and deleted there), so a read-only or forbidden
     * location fails in one line now rather than after the work.
     */
    void checkOutputs() throws BadInputException {
        CommandLine cli = command == null ? null : command.commandLine();
        if (cli == null || cli.getParseResult() == null) return;
        List<Map.Entry<String, Path>> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        for (OptionSpec o : cli.getParseResult().matchedOptions()) {
            Object v = o.getValue();
            List<Path> paths = new ArrayList<>();
            if (v instanceof Path p) paths.add(p);
            if (v instanceof List<?> list) for (Object e : list) if (e instanceof Path p) paths.add(p);
            for (Path p : paths) (OUTPUTS.contains(o.longestName()) ? outputs : inputs).add(Map.entry(o.longestName(), p));
        }
        for (int i = 0; i < outputs.size(); i++) {
            String option = outputs.get(i).getKey();
            Path out = outputs.get(i).getValue();
            for (Map.Entry<String, Path> in : inputs) {
                if (sameFile(out, in.getValue())) {
                    throw new BadInputException(option + ": " + out + " is the " + in.getKey() + " file; write to another file");
                }
            }
            for (int j = 0; j < i; j++) {
                if (sameFile(out, outputs.get(j).getValue())) {
                    throw new BadInputException(option + ": " + out + " is also the " + outputs.get(j).getKey() + " file");
                }
            }
            checkWritable(option, out);
        }
    }

    /** Whether two paths name the same file: equal once made absolute, or (both existing) the same file through links. */
    static boolean sameFile(Path a, Path b) {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) return true;
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** Creates and deletes a probe file where {@code file} will be written (its nearest existing folder). */
    static void checkWritable(String option, Path file) throws BadInputException {
        Path abs = file.toAbsolutePath().normalize();
        if (Files.isRegularFile(abs) && !Files.isWritable(abs)) {
            throw new BadInputException(option + ": " + file + " cannot be written (permission denied)");
        }
        // an existing folder (--out-dir) is written into; a file goes in its nearest existing folder
        Path dir = Files.isDirectory(abs) ? abs : abs.getParent();
        while (dir != null && !Files.isDirectory(dir)) dir = dir.getParent();
        if (dir == null) return;
        try {
            Files.delete(Files.createTempFile(dir, ".whittle-write-check-", ".tmp"));
        } catch (AccessDeniedException e) {
            throw new BadInputException(option + ": " + file + ": cannot write in " + dir + " (permission denied)");
        } catch (FileSystemException e) {
            throw new BadInputException(option + ": " + file + ": cannot write in " + dir + " ("
                    + (e.getReason() != null ? e.getReason() : "no new file can be made there") + ")");
        } catch (IOException e) {
            throw new BadInputException(option + ": " + file + ": cannot write in " + dir + " (" + e.getMessage() + ")");
        }
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
     * {@link #checkOutputPath} does) and every output against the inputs ({@link #checkOutputs}),
     * and applies {@code --threads}; returns the thread count in use.
     */
    int begin() throws BadInputException {
        checkOutputPath("--report", report);
        checkOutputs();
        if (threads != null) {
            if (threads < 1 || threads > 1024) {
                throw new BadInputException("--threads: must be between 1 and 1024, got " + threads);
            }
            Parallel.setThreads(threads);
        }
        return Parallel.threads();
    }
}
