package dev.whittle.cli;

import dev.whittle.engine.BadInputException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code whittle} command: one subcommand per job; exit 0 on success, 2 on bad input, 1 on an internal failure. */
@Command(name = "whittle", mixinStandardHelpOptions = true, version = "whittle " + Main.VERSION,
        description = "Make neural networks smaller while they keep what they know.",
        subcommands = {TrainCommand.class, EvalCommand.class, InspectCommand.class, DistillCommand.class, PruneCommand.class, QuantizeCommand.class, CoresetCommand.class, CompressCommand.class, DemoCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** The version manifests and {@code --version} report. */
    static final String VERSION = "0.1.0";

    static final int BAD_INPUT = 2;
    static final int INTERNAL = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (used by tests too). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // "whittle foo --help" would print the main help and exit 0: an unknown command is an error first
        if (args.length > 0 && !args[0].startsWith("-") && !cli.getSubcommands().containsKey(args[0])) {
            System.err.println("whittle: unknown command \"" + args[0] + "\"; the commands: " + String.join(", ", cli.getSubcommands().keySet()));
            return BAD_INPUT;
        }
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("whittle: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for the options.");
            err.flush();
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            if (ex instanceof BadInputException || ex instanceof CommandLine.ParameterException) {
                err.println("whittle: " + ex.getMessage());
                err.flush();
                return BAD_INPUT;
            }
            Throwable io = ex instanceof java.io.UncheckedIOException u ? u.getCause() : ex;
            if (io instanceof java.nio.file.FileSystemException fs) {
                // a disk that filled up or a file that vanished mid-run: the file and the reason, one line
                err.println("whittle: " + fs.getFile() + ": " + (fs.getReason() != null ? fs.getReason() : fs.getClass().getSimpleName()));
                err.flush();
                return INTERNAL;
            }
            if (io instanceof java.io.IOException e) {
                err.println("whittle: input/output error: " + e.getMessage());
                err.flush();
                return INTERNAL;
            }
            err.println("whittle: internal error: " + ex);
            ex.printStackTrace(err);
            err.flush();
            return INTERNAL;
        });
        return cli.execute(args);
    }
}
