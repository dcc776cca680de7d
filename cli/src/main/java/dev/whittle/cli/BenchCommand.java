package dev.whittle.cli;

import dev.whittle.bench.KernelBench;
import dev.whittle.bench.KernelCase;
import dev.whittle.bench.OpenBlasPeer;
import dev.whittle.engine.BadInputException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle bench}: speed measurements; the harness lives in the bench module, this only calls it. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure whittle's speed.",
        subcommands = {BenchCommand.Kernels.class, BenchCommand.Models.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "bench needs a subcommand: kernels or models");
    }

    /** {@code whittle bench kernels}: GFLOPS of the FP32 and integer kernels, optionally beside OpenBLAS. */
    @Command(name = "kernels", mixinStandardHelpOptions = true, sortOptions = false,
            description = "GFLOPS of SGEMM (squares and the training products of lenet-300-100 and lenet5 at "
                    + "batch 128), SGEMV and the INT8/INT4 kernels, optionally beside OpenBLAS (FP32) through numpy, timed case by case in the same run.")
    static final class Kernels implements Callable<Integer> {

        @Option(names = "--peer", paramLabel = "NAME",
                description = "Also time the same products on a peer: openblas (numpy of the python3 on PATH).")
        String peer;

        @Option(names = "--only", paramLabel = "PATTERN",
                description = "Only the cases whose kernel (sgemm, sgemv, spmv, int8_gemv, int4_gemv, int8_gemm, int4_gemm) "
                        + "or shape (2048x2048x2048, 4096x4096) is PATTERN, or whose label contains it (lenet5, forward).")
        String only;

        @Option(names = "--rounds", paramLabel = "N", defaultValue = "" + KernelBench.ROUNDS,
                description = "Rounds in which whittle and the peer take turns on each case; the median of the rounds is kept. "
                        + "The sampling time is shared out among them: more rounds give steadier ratios on a busy machine "
                        + "at the cost of a 0.05 s warm-up per round (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Mixin
        CommonOptions common = new CommonOptions();

        @Override
        public Integer call() throws Exception {
            int threads = common.begin();
            if (peer != null && !peer.equals("openblas")) {
                throw new BadInputException("--peer: unknown peer '" + peer + "'; the one peer is openblas");
            }
            if (rounds < 1 || rounds > 1000) throw new BadInputException("--rounds: must be 1 to 1000, got " + rounds);
            List<KernelCase> cases = KernelBench.cases();
            if (only != null) {
                cases = KernelBench.select(cases, only);
                if (cases.isEmpty()) {
                    throw new BadInputException("--only: no case matches '" + only + "'; give a kernel (sgemm, sgemv, spmv, "
                            + "int8_gemv, int4_gemv, int8_gemm, int4_gemm), a shape such as 2048x2048x2048, or part of a label such as lenet5");
                }
            }
            try (OpenBlasPeer p = peer == null ? null : OpenBlasPeer.start(threads)) {
                KernelBench.printHeader(System.out, threads, p, rounds);
                List<KernelBench.Result> results = KernelBench.run(cases, threads, p, rounds, r -> KernelBench.printRow(System.out, r));
                KernelBench.printFooter(System.out, results);
                if (common.report != null) Reports.write(common.report, KernelBench.report(results, threads, p, rounds));
            }
            return 0;
        }
    }

    /** {@code whittle bench models}: batch-1 latency and batch-64 throughput of model files, side by side. */
    @Command(name = "models", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Batch-1 latency (p50, p95) and batch-64 throughput of model files (FP32, pruned or quantized) on real samples, "
                    + "the models taking turns in short bursts after warm-up; ratios against the first model.")
    static final class Models implements Callable<Integer> {

        @Option(names = "--model", paramLabel = "FILE", required = true, description = "A model file (repeat to compare; the first is the reference).")
        List<java.nio.file.Path> models;

        @Mixin
        DataOptions data = new DataOptions();

        @Option(names = "--runs", paramLabel = "N", defaultValue = "300", description = "Timed runs at batch 1 and at batch 64 per model (default: ${DEFAULT-VALUE}).")
        int runs;

        @Mixin
        CommonOptions common = new CommonOptions();

        @Override
        public Integer call() throws Exception {
            int threads = common.begin();
            if (runs < 5 || runs > 1_000_000) throw new BadInputException("--runs: must be between 5 and 1000000, got " + runs);
            List<dev.whittle.engine.Model> loaded = new java.util.ArrayList<>();
            for (java.nio.file.Path f : models) {
                dev.whittle.engine.io.ModelFile.Loaded file = dev.whittle.engine.io.ModelFile.load(f);
                if (loaded.isEmpty()) data.defaultTo(file.metadata(), f);   // the reference model's data
                loaded.add(file.model());
            }
            var split = data.open(0);
            for (int i = 0; i < loaded.size(); i++) {
                ModelStats.checkInputs(models.get(i), loaded.get(i), data.name, split.test().sampleShape());
            }
            var results = dev.whittle.compress.report.InferenceTiming.measure(loaded, split.test(), runs);
            System.out.printf(java.util.Locale.ROOT, "%d thread(s); %d runs each at batch 1 and 64, the models taking turns; kernels: %s%n", threads, runs,
                    dev.whittle.kernels.Kernels.describe());
            System.out.printf("%-40s %12s %12s %14s %10s %10s%n", "model", "p50 (us)", "p95 (us)", "samples/s", "latency", "throughput");
            List<Object> rows = new java.util.ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                var r = results.get(i);
                double lat = r.latencyUsP50() / results.get(0).latencyUsP50(), thr = r.throughputPerSecond() / results.get(0).throughputPerSecond();
                System.out.printf(java.util.Locale.ROOT, "%-40s %12.1f %12.1f %14.0f %9.2fx %9.2fx%n", models.get(i).getFileName(),
                        r.latencyUsP50(), r.latencyUsP95(), r.throughputPerSecond(), lat, thr);
                java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
                row.put("model", models.get(i).toString());
                row.put("latency_us_p50", r.latencyUsP50());
                row.put("latency_us_p95", r.latencyUsP95());
                row.put("throughput_per_s", r.throughputPerSecond());
                row.put("latency_ratio", lat);
                row.put("throughput_ratio", thr);
                rows.add(row);
            }
            if (common.report != null) {
                java.util.Map<String, Object> rep = new java.util.LinkedHashMap<>();
                rep.put("command", "bench models");
                rep.put("settings", java.util.Map.of("data", data.name, "runs", runs, "threads", threads));
                rep.put("results", rows);
                Reports.write(common.report, rep);
            }
            return 0;
        }
    }
}
