package dev.whittle.cli;

import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress: a bar redrawn in place on stderr when stderr is a terminal (the launcher
 * tells us through {@code WHITTLE_STDERR_TTY}, since Java cannot ask about stderr), and one plain
 * line per epoch on stdout either way.
 */
final class Progress implements TrainingListener {

    private static final int WIDTH = 30;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean bar;
    private final int epochs;
    private long lastDraw;

    Progress(int epochs) {
        this.out = System.out;
        this.err = System.err;
        this.bar = "1".equals(System.getenv("WHITTLE_STDERR_TTY"));
        this.epochs = epochs;
    }

    static void header(PrintStream out) {
        out.printf("%-7s %10s %10s %10s %10s %9s%n", "epoch", "lr", "loss", "train acc", "test acc", "seconds");
    }

    @Override
    public void onBatch(int epoch, int batch, int batches) {
        if (!bar) return;
        long now = System.nanoTime();
        if (batch + 1 < batches && now - lastDraw < 100_000_000L) return;
        lastDraw = now;
        int filled = (int) ((long) WIDTH * (batch + 1) / batches);
        err.print("\repoch " + (epoch + 1) + "/" + epochs + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] "
                + (batch + 1) + "/" + batches + " ");
        err.flush();
    }

    /** Wipes the bar (before a line is printed over it). */
    void clear() {
        if (bar) {
            err.print("\r" + " ".repeat(WIDTH + 40) + "\r");
            err.flush();
        }
    }

    @Override
    public void onEpoch(EpochStats s) {
        clear();
        out.printf(Locale.ROOT, "%-7s %10.2e %10.4f %9.2f%% %9.2f%% %9.2f%n", s.epoch() + "/" + epochs, s.learningRate(),
                s.trainLoss(), 100 * s.trainAccuracy(), 100 * s.testAccuracy(), s.seconds());
        out.flush();
    }
}
