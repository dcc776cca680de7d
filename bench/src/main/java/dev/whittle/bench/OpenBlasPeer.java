package dev.whittle.bench;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * OpenBLAS through numpy, timed in a {@code python3} process that lives as long as the benchmark,
 * so each case runs on whittle and on the peer one after the other, under the same load.
 *
 * <p>The reference is the {@code python3} on PATH (numpy 2.x bundles a current OpenBLAS that picks
 * its kernel by itself). Its threads are pinned with {@code OPENBLAS_NUM_THREADS}; and
 * {@code OPENBLAS_CORETYPE} and {@code OPENBLAS_L2_SIZE}, which some machines set for older
 * OpenBLAS builds and which slow a current one, are removed from its environment. The script
 * reports which core OpenBLAS actually runs.
 */
public final class OpenBlasPeer implements AutoCloseable {

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final StringBuilder errors;
    private final Map<String, Object> info;

    private OpenBlasPeer(Process process, StringBuilder errors) throws IOException, BadInputException {
        this.process = process;
        this.errors = errors;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Map<String, Object> first = readAnswer();
        if (first == null) {
            throw new BadInputException("--peer openblas: python3 stopped before answering" + stderrTail());
        }
        if (first.get("error") != null) throw new BadInputException("--peer openblas: " + first.get("error"));
        if (first.get("openblas_core") == null) {
            // no OpenBLAS in the process (Debian's numpy 1.24 runs the reference BLAS, 25x slower):
            // a ratio against it would be a false claim
            throw new BadInputException("--peer openblas: numpy " + first.get("numpy") + " of " + first.get("executable")
                    + " does not run OpenBLAS (no OpenBLAS library found in the process); use a python3 whose numpy does (numpy 2.x wheels bundle it)");
        }
        this.info = first;
    }

    /** Starts the peer with its BLAS pinned to {@code threads} threads. */
    public static OpenBlasPeer start(int threads) throws BadInputException {
        ProcessBuilder pb = new ProcessBuilder("python3", "-u", "-c", script());
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        env.put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        env.put("OMP_NUM_THREADS", Integer.toString(threads));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new BadInputException("--peer openblas: cannot run python3 (" + e.getMessage()
                    + "); it needs python3 with numpy on PATH");
        }
        StringBuilder errors = new StringBuilder();
        Thread drain = new Thread(() -> drain(p.getErrorStream(), errors), "openblas-peer-stderr");
        drain.setDaemon(true);
        drain.start();
        try {
            return new OpenBlasPeer(p, errors);
        } catch (IOException e) {
            p.destroyForcibly();
            throw new BadInputException("--peer openblas: python3 did not answer: " + e.getMessage());
        } catch (BadInputException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** What the peer runs: python and numpy versions, OpenBLAS build, the core it picked, threads. */
    public Map<String, Object> info() {
        return info;
    }

    /** A one-line description for the table's header. */
    public String describe() {
        Object version = info.getOrDefault("blas_version", info.get("openblas_version"));
        Object threads = info.getOrDefault("openblas_threads", info.get("OPENBLAS_NUM_THREADS"));
        return "numpy " + info.get("numpy") + ", " + (version == null ? "BLAS" : "OpenBLAS " + version)
                + " (core " + info.getOrDefault("openblas_core", "unknown") + ", "
                + threads + (String.valueOf(threads).equals("1") ? " thread)" : " threads)");
    }

    /** The peer's median seconds per call of the same product, with {@link Timing}'s warm-up and budget. */
    public double seconds(KernelCase c) throws IOException {
        return seconds(c, Timing.WARMUP_SECONDS, Timing.BUDGET_SECONDS);
    }

    /** The peer's median seconds per call of the same product, with the given warm-up and sampling budget. */
    public double seconds(KernelCase c, double warmupSeconds, double budgetSeconds) throws IOException {
        in.write(c.peerRequest() + String.format(java.util.Locale.ROOT, " %.4f %.4f", warmupSeconds, budgetSeconds) + "\n");
        in.flush();
        Map<String, Object> answer = readAnswer();
        if (answer == null) throw new IOException("the OpenBLAS peer stopped" + stderrTail());
        if (answer.get("error") != null) throw new IOException("the OpenBLAS peer failed on " + c.shape() + ": " + answer.get("error"));
        return ((Number) answer.get("seconds")).doubleValue();
    }

    @Override
    public void close() {
        try {
            in.write("quit\n");
            in.flush();
            in.close();
        } catch (IOException ignored) {
            // the process is gone already; destroy below
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> readAnswer() throws IOException {
        String line = out.readLine();
        if (line == null) return null;
        try {
            Object v = Json.parse(line);
            if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        } catch (Json.SyntaxException e) {
            // fall through: a stray line from numpy or python
        }
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("error", "unexpected output: " + line);
        return bad;
    }

    private String stderrTail() {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text;
        synchronized (errors) {
            text = errors.toString().strip();
        }
        if (text.isEmpty()) return "";
        String[] lines = text.split("\n");
        return ": " + lines[lines.length - 1].strip();
    }

    private static void drain(InputStream err, StringBuilder into) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(err, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (into) {
                    if (into.length() < 16_384) into.append(line).append('\n');
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    private static String script() {
        try (InputStream s = OpenBlasPeer.class.getResourceAsStream("openblas_peer.py")) {
            if (s == null) throw new IllegalStateException("openblas_peer.py is missing from the bench jar");
            return new String(s.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read openblas_peer.py", e);
        }
    }
}
