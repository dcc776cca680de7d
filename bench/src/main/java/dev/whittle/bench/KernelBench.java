package dev.whittle.bench;

import dev.whittle.kernels.CsrMatrix;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Int4Matrix;
import dev.whittle.kernels.Int8Matrix;
import dev.whittle.kernels.Int8Requantization;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.Parallel;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * {@code whittle bench kernels}: GFLOPS of the FP32 kernels on square products and on the exact
 * products of a training step of {@code lenet-300-100} and {@code lenet5} at batch 128, optionally
 * beside OpenBLAS (through numpy) timed in the same run, case by case.
 *
 * <p>A Linear layer {@code in -> out} at batch b runs forward {@code A.B^T} (b x out x in), its
 * weight gradient {@code A^T.B} (out x in x b) and its input gradient {@code A.B} (b x in x out).
 * A convolution runs per sample: forward {@code W.X} on im2col columns (out x oh*ow x in*k*k;
 * the engine runs LeNet-5's two as direct convolutions, which give the same bits), weight gradient
 * {@code dY.X^T} on im2row's rows (out x in*k*k x oh*ow) and input gradient {@code W^T.dY}
 * (in*k*k x oh*ow x out), as {@code dev.whittle.engine.nn.Conv2d} does.
 */
public final class KernelBench {

    /**
     * One timed case; {@code peerSeconds} is NaN without a peer. {@code fp32Seconds} is this
     * project's own FP32 SGEMM of the same shape timed in the same rounds, for the integer GEMMs
     * (NaN otherwise). {@code ratioLow} and {@code ratioHigh} are the lowest and highest
     * whittle/peer speed ratio of a single round (NaN without a peer): how far the host moved
     * while the case was timed.
     */
    public record Result(KernelCase kernelCase, int threads, double seconds, double peerSeconds, double fp32Seconds,
                         double ratioLow, double ratioHigh) {

        public Result(KernelCase kernelCase, int threads, double seconds, double peerSeconds) {
            this(kernelCase, threads, seconds, peerSeconds, Double.NaN, Double.NaN, Double.NaN);
        }

        /** Whether single rounds gave ratios more than {@link #ROUND_SPREAD} apart. */
        public boolean unsteady() {
            return ratioHigh > ROUND_SPREAD * ratioLow;
        }

        /** Integer ops/s over this project's FP32 SGEMM flops/s on the same shape (NaN if not measured). */
        public double fp32Ratio() {
            return fp32Seconds / seconds;
        }

        public double gflops() {
            return kernelCase.flops() / seconds / 1e9;
        }

        public double peerGflops() {
            return kernelCase.flops() / peerSeconds / 1e9;
        }

        /** whittle / peer, in speed (above 1: whittle is faster). */
        public double ratio() {
            return peerSeconds / seconds;
        }

        public boolean hasPeer() {
            return !Double.isNaN(peerSeconds);
        }
    }

    /**
     * Warm-up of the integer cases. Their epilogues and unpacking are Vector API code of their
     * own, which runs boxed until C2 has compiled it: the first INT8 GEMM call of 1024x1024x256
     * took 2 s, and calls stayed 1.5-2.5x slow for the next half second (the FP32 rows share one
     * micro-kernel that earlier rows have compiled).
     */
    static final double INTEGER_WARMUP_SECONDS = 3.0;
    /** Warm-up of the FP32 kernels once, before the first case. */
    static final double FP32_WARMUP_SECONDS = 2.0;
    /** Density of the {@code spmv} case's matrix: 90% of the weights pruned. */
    public static final double SPMV_DENSITY = 0.1;

    private KernelBench() {}

    /** The cases of the table, in order. */
    public static List<KernelCase> cases() {
        List<KernelCase> c = new ArrayList<>();
        for (int s : new int[] {256, 512, 1024, 2048}) c.add(KernelCase.sgemm("nn", s, s, s, "square"));
        linear(c, "lenet-300-100", "fc1", 784, 300);
        linear(c, "lenet-300-100", "fc2", 300, 100);
        linear(c, "lenet-300-100", "fc3", 100, 10);
        conv(c, "conv1", 1, 6, 28 * 28, false);
        conv(c, "conv2", 6, 16, 10 * 10, true);
        linear(c, "lenet5", "fc1", 400, 120);
        linear(c, "lenet5", "fc2", 120, 84);
        linear(c, "lenet5", "fc3", 84, 10);
        c.add(KernelCase.sgemv(4096, 4096, "batch-1 inference"));
        c.add(KernelCase.spmv(4096, 4096, "90% sparse, CSR"));
        c.add(KernelCase.integer("int8_gemv", 4096, 1, 4096, "batch-1 inference, int8 weights and activations"));
        c.add(KernelCase.integer("int4_gemv", 4096, 1, 4096, "batch-1 inference, W4A8: int4 weights (group 64), activations int8 per group"));
        c.add(KernelCase.sgemm("nt", 1024, 1024, 256, "the integer GEMMs' shape, FP32"));
        c.add(KernelCase.integer("int8_gemm", 1024, 1024, 256, "int8 weights and activations"));
        c.add(KernelCase.integer("int4_gemm", 1024, 1024, 256, "int4 weights (group 64), fp32 activations"));
        return c;
    }

    private static void linear(List<KernelCase> c, String net, String layer, int in, int out) {
        int batch = 128;
        c.add(KernelCase.sgemm("nt", batch, out, in, net + " " + layer + " forward"));
        c.add(KernelCase.sgemm("tn", out, in, batch, net + " " + layer + " weight grad"));
        c.add(KernelCase.sgemm("nn", batch, in, out, net + " " + layer + " input grad"));
    }

    /** A 5x5 convolution of lenet5, one sample (the engine runs these per sample). */
    private static void conv(List<KernelCase> c, String layer, int inC, int outC, int plane, boolean inputGrad) {
        int patch = inC * 25;
        c.add(KernelCase.sgemm("nn", outC, plane, patch, "lenet5 " + layer + " forward (1 sample)"));
        c.add(KernelCase.sgemm("nn", outC, patch, plane, "lenet5 " + layer + " weight grad (1 sample)"));
        if (inputGrad) c.add(KernelCase.sgemm("tn", patch, plane, outC, "lenet5 " + layer + " input grad (1 sample)"));
    }

    /**
     * Rounds a case is timed in, whittle and the peer taking turns, each round a fifth of the
     * sampling budget; the median of the rounds is kept. The host's slow spells last tens to
     * hundreds of milliseconds: timed in one block each, whittle's 0.6 s could fall in one and
     * the peer's not, which moved single-thread SGEMM ratios by a third between runs.
     */
    public static final int ROUNDS = 5;
    /** Rounds whose whittle/peer ratios differ by more than this factor are shown in the table. */
    static final double ROUND_SPREAD = 1.2;
    /**
     * With more than one thread, seconds between the peer's turn and whittle's. OpenBLAS's idle
     * threads busy-wait for 2^28 cycles (its {@code THREAD_TIMEOUT}; about 0.11 s here) before they
     * sleep, so a turn of whittle's that followed straight on shared the cores with them: on two
     * threads 256^3, 512^3 and 1024^3 read 0.55x, 0.50x and 0.75x OpenBLAS that way, and 0.92x,
     * 0.93x and 0.95x with the peer's threads told not to spin ({@code OPENBLAS_THREAD_TIMEOUT=4}),
     * OpenBLAS's own figures the same either way. Waiting instead leaves each library its own
     * default behaviour within its turn.
     */
    static final double PEER_SETTLE_SECONDS = 0.25;
    /** With more than one thread, seconds between whittle's turn and the peer's: the pool's threads poll for 2 ms before they park. */
    static final double OWN_SETTLE_SECONDS = 0.01;
    /** Warm-up before each round after the first (the first warms up in full). */
    private static final double ROUND_WARMUP_SECONDS = 0.05;

    /**
     * Times every case on {@code threads} threads, and on the peer in turns with it when there is
     * one, in {@code rounds} rounds ({@link #ROUNDS} by default); {@code each} sees every result as
     * it is measured. The sampling budget is shared out among the rounds, so more rounds add only
     * their short warm-ups (and a round still takes at least three calls) and give a steadier
     * median on a busy host.
     */
    public static List<Result> run(List<KernelCase> cases, int threads, OpenBlasPeer peer, int rounds, Consumer<Result> each)
            throws IOException {
        if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1, got " + rounds);
        Parallel.setThreads(threads);
        // compile the FP32 micro-kernel and GEMV before the first row: on a busy host the first
        // case's 0.3 s warm-up sometimes ended before C2 had, and the row read a tenth of its speed
        for (KernelCase c : List.of(KernelCase.sgemm("nn", 256, 256, 256, "warm-up"), KernelCase.sgemv(1024, 1024, "warm-up"))) {
            Timing.medianSeconds(operation(c, Kernels.fp32()), FP32_WARMUP_SECONDS, 0.05);
        }
        List<Result> results = new ArrayList<>();
        for (KernelCase c : cases) {
            Runnable op = operation(c, Kernels.fp32());
            double warmup = c.kernel().startsWith("int") ? INTEGER_WARMUP_SECONDS : Timing.WARMUP_SECONDS;
            // an integer GEMM is also compared with this project's FP32 SGEMM of its shape, timed in
            // the same rounds: the host's busy spells (a standalone INT4 loop once ran at half speed
            // through a whole 30-second run) then fall on both alike, as they do on the peer
            Runnable fp32 = c.kernel().endsWith("_gemm")
                    ? operation(KernelCase.sgemm(c.layout(), c.m(), c.n(), c.k(), c.label()), Kernels.fp32()) : null;
            double[] own = new double[rounds], other = new double[rounds], reference = new double[rounds];
            double budget = Timing.BUDGET_SECONDS / rounds;
            for (int r = 0; r < rounds; r++) {
                own[r] = Timing.medianSeconds(op, r == 0 ? warmup : ROUND_WARMUP_SECONDS, budget);
                reference[r] = fp32 == null ? Double.NaN
                        : Timing.medianSeconds(fp32, r == 0 ? Timing.WARMUP_SECONDS : ROUND_WARMUP_SECONDS, budget);
                if (peer == null) {
                    other[r] = Double.NaN;
                    continue;
                }
                if (threads > 1) settle(OWN_SETTLE_SECONDS);
                other[r] = peer.seconds(c, r == 0 ? Timing.WARMUP_SECONDS : ROUND_WARMUP_SECONDS, budget);
                if (threads > 1) settle(PEER_SETTLE_SECONDS);
            }
            double seconds = median(own), peerSeconds = median(other), low = Double.NaN, high = Double.NaN;
            for (int i = 0; i < rounds && peer != null; i++) {
                double ratio = other[i] / own[i];
                low = i == 0 ? ratio : Math.min(low, ratio);
                high = i == 0 ? ratio : Math.max(high, ratio);
            }
            Result r = new Result(vsDense(c, seconds, results), threads, seconds, peerSeconds, median(reference), low, high);
            results.add(r);
            each.accept(r);
        }
        return results;
    }

    /** Sleeps while the other side's idle threads stop spinning (see {@link #PEER_SETTLE_SECONDS}). */
    private static void settle(double seconds) throws IOException {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted between turns");
        }
    }

    /** The median of {@code v}: the middle value, or the mean of the two middle ones (NaN if any value is). */
    static double median(double[] v) {
        double[] sorted = v.clone();
        java.util.Arrays.sort(sorted);
        int h = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
    }

    /**
     * The cases a pattern picks: those whose kernel name ({@code sgemm}, {@code int8_gemv}...) or
     * shape ({@code 2048x2048x2048}, {@code 4096x4096}) equals it, or whose label contains it
     * ({@code lenet5}, {@code forward}).
     */
    public static List<KernelCase> select(List<KernelCase> cases, String pattern) {
        List<KernelCase> only = new ArrayList<>();
        for (KernelCase c : cases) {
            if (c.kernel().equals(pattern) || c.shape().equals(pattern) || c.label().contains(pattern)) only.add(c);
        }
        return only;
    }

    /** An spmv case's label gains its speed-up over this run's dense SGEMV of the same shape. */
    private static KernelCase vsDense(KernelCase c, double seconds, List<Result> results) {
        if (!c.kernel().equals("spmv")) return c;
        for (Result d : results) {
            KernelCase dc = d.kernelCase();
            if (dc.kernel().equals("sgemv") && dc.m() == c.m() && dc.k() == c.k()) {
                return new KernelCase(c.kernel(), c.layout(), c.m(), c.n(), c.k(), String.format(Locale.ROOT,
                        "%s, vs own dense SGEMV %.2fx", c.label(), d.seconds() / seconds));
            }
        }
        return c;
    }

    /** The call a case times, on freshly filled operands (values in [-0.5, 0.5), as the peer's). */
    public static Runnable operation(KernelCase c, FloatKernels k) {
        SplittableRandom r = new SplittableRandom(42);
        int m = c.m(), n = c.n(), kk = c.k();
        float[] a = fill(r, m * kk), b = fill(r, kk * n), out = new float[m * n];
        return switch (c.kernel() + " " + c.layout()) {
            case "sgemm nn" -> () -> k.gemmNN(m, n, kk, a, 0, b, 0, out, 0, false);
            case "sgemm nt" -> () -> k.gemmNT(m, n, kk, a, 0, b, 0, out, 0, false);
            case "sgemm tn" -> () -> k.gemmTN(m, n, kk, a, 0, b, 0, out, 0, false);
            case "sgemv n" -> () -> k.gemv(m, kk, a, 0, b, 0, out, 0, false);
            case "spmv n" -> {
                for (int i = 0; i < a.length; i++) if (r.nextDouble() >= SPMV_DENSITY) a[i] = 0f;
                CsrMatrix sparse = CsrMatrix.of(a, 0, m, kk);
                yield () -> Kernels.sparse().spmv(sparse, b, 0, out, 0);
            }
            case "int8_gemv n", "int8_gemm nt", "int4_gemv n", "int4_gemm nt" -> integer(c, r);
            default -> throw new IllegalArgumentException("unknown kernel " + c.kernel() + " " + c.layout());
        };
    }

    /**
     * An integer product on random operands: int8 weights in [-127, 127] with per-row scales and
     * int8 activations requantized to int8 with ReLU, or int4 weights (group 64) with FP32
     * activations.
     */
    private static Runnable integer(KernelCase c, SplittableRandom r) {
        int rows = c.isGemv() ? 1 : c.m(), outputs = c.isGemv() ? c.m() : c.n(), depth = c.k();
        if (c.kernel().startsWith("int8")) {
            byte[] w = new byte[outputs * depth], x = new byte[rows * depth], y = new byte[rows * outputs];
            for (int i = 0; i < w.length; i++) w[i] = (byte) (r.nextInt(255) - 127);
            for (int i = 0; i < x.length; i++) x[i] = (byte) (r.nextInt(256) - 128);
            float[] scales = new float[outputs];
            java.util.Arrays.fill(scales, 0.01f);
            Int8Matrix packed = Int8Matrix.pack(w, 0, outputs, depth);
            Int8Requantization rq = Int8Requantization.of(0.02f, scales, 1f, 0, null, true);
            return () -> Kernels.int8().gemm(rows, x, 0, 0, packed, rq, y, 0);
        }
        Int4Matrix packed = Int4Matrix.quantize(fill(r, outputs * depth), 0, outputs, depth, 64);
        float[] x = fill(r, rows * depth), y = new float[rows * outputs];
        // the GEMV row measures W4A8, the faster of the two at batch 1; the GEMM row W4 with FP32 activations
        if (c.isGemv()) return () -> Kernels.int4().gemmA8(rows, x, 0, packed, null, false, y, 0);
        return () -> Kernels.int4().gemm(rows, x, 0, packed, null, false, y, 0);
    }

    private static float[] fill(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return v;
    }

    /** The table's header lines. */
    public static void printHeader(PrintStream o, int threads, OpenBlasPeer peer, int rounds) {
        o.println("kernels  " + Kernels.describe() + ", " + threads + (threads == 1 ? " thread" : " threads"));
        if (peer != null) o.println("peer     " + peer.describe() + "; the two take turns in " + rounds + (rounds == 1 ? " round" : " rounds"));
        o.println();
        if (peer != null) {
            o.printf(Locale.ROOT, "%-9s %-3s %-15s %9s %9s %7s  %s%n", "kernel", "op", "m x n x k", "GFLOPS", "OpenBLAS", "ratio", "shape of");
        } else {
            o.printf(Locale.ROOT, "%-9s %-3s %-15s %9s  %s%n", "kernel", "op", "m x n x k", "GFLOPS", "shape of");
        }
    }

    /** One row of the table. */
    public static void printRow(PrintStream o, Result r) {
        KernelCase c = r.kernelCase();
        String label = Double.isNaN(r.fp32Seconds()) ? c.label()
                : c.label() + String.format(Locale.ROOT, "; %.2fx this project's FP32 SGEMM", r.fp32Ratio());
        if (r.unsteady()) label += String.format(Locale.ROOT, " [rounds %.2f-%.2fx]", r.ratioLow(), r.ratioHigh());
        if (r.hasPeer()) {
            o.printf(Locale.ROOT, "%-9s %-3s %-15s %9.1f %9.1f %6.2fx  %s%n", c.kernel(), c.layout(), c.shape(),
                    r.gflops(), r.peerGflops(), r.ratio(), label);
        } else {
            o.printf(Locale.ROOT, "%-9s %-3s %-15s %9.1f  %s%n", c.kernel(), c.layout(), c.shape(), r.gflops(), label);
        }
        o.flush();
    }

    /** A line after the table when some rows were unsteady, saying what their brackets mean. */
    public static void printFooter(PrintStream o, List<Result> results) {
        if (results.stream().noneMatch(Result::unsteady)) return;
        o.printf(Locale.ROOT, "%n[rounds a-bx]: the ratio of single rounds ranged from a to b (more than %.0f%% apart): the host "
                + "was busy while that row was timed; compare medians over several runs.%n", (ROUND_SPREAD - 1) * 100);
    }

    /** The JSON report: {@code command}, {@code settings} and one object per result. */
    public static Map<String, Object> report(List<Result> results, int threads, OpenBlasPeer peer, int rounds) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("threads", threads);
        settings.put("peer", peer == null ? null : "openblas");
        settings.put("kernels", Kernels.describe());
        settings.put("java", Runtime.version().toString());
        settings.put("cores", Runtime.getRuntime().availableProcessors());
        settings.put("warmup_s", Timing.WARMUP_SECONDS);
        settings.put("integer_warmup_s", INTEGER_WARMUP_SECONDS);
        settings.put("budget_s", Timing.BUDGET_SECONDS);
        settings.put("rounds", rounds);
        if (peer != null && threads > 1) {
            settings.put("peer_settle_s", PEER_SETTLE_SECONDS);
            settings.put("own_settle_s", OWN_SETTLE_SECONDS);
        }
        settings.put("statistic", "median over the rounds of the median seconds per call; whittle, the peer and (for the integer GEMMs) whittle's FP32 SGEMM of the same shape take turns, round by round");
        if (peer != null) settings.put("peer_info", peer.info());
        List<Object> rows = new ArrayList<>();
        for (Result r : results) {
            KernelCase c = r.kernelCase();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("kernel", c.kernel());
            row.put("layout", c.layout());
            row.put("label", c.label());
            row.put("m", c.m());
            row.put("n", c.n());
            row.put("k", c.k());
            row.put("threads", r.threads());
            row.put("seconds", r.seconds());
            row.put("gflops", round(r.gflops(), 2));
            if (r.hasPeer()) {
                row.put("peer_seconds", r.peerSeconds());
                row.put("peer_gflops", round(r.peerGflops(), 2));
                row.put("ratio", round(r.ratio(), 3));
                if (!Double.isNaN(r.ratioLow())) {
                    row.put("ratio_round_low", round(r.ratioLow(), 3));
                    row.put("ratio_round_high", round(r.ratioHigh(), 3));
                }
            }
            if (!Double.isNaN(r.fp32Seconds())) {
                row.put("fp32_seconds", r.fp32Seconds());
                row.put("ratio_to_fp32", round(r.fp32Ratio(), 3));
            }
            rows.add(row);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("command", "bench kernels");
        report.put("settings", settings);
        report.put("results", rows);
        return report;
    }

    private static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }

    /** Runs the table from the command line of the bench jar: {@code [threads] [openblas] [kernel, shape or part of a label]}. */
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Parallel.threads();
        boolean withPeer = args.length > 1 && args[1].equals("openblas");
        List<KernelCase> cases = cases();
        if (args.length > 2) cases = select(cases, args[2]);
        try (OpenBlasPeer peer = withPeer ? OpenBlasPeer.start(threads) : null) {
            printHeader(System.out, threads, peer, ROUNDS);
            printFooter(System.out, run(cases, threads, peer, ROUNDS, r -> printRow(System.out, r)));
        }
    }
}
