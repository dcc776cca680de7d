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
        subcommands = {BenchCommand.Kernels.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "bench needs a subcommand: kernels");
    }

    /** {@code whittle bench kernels}: GFLOPS of the FP32 and integer kernels, optionally beside OpenBLAS. */
    @Command(name = "kernels", mixinStandardHelpOptions = true, sortOptions = false,
            description = "GFLOPS of SGEMM (squares and the training products of lenet-300-100 and lenet5 at "
                    + "batch 128), SGEMV and the INT8/INT4 kernels, optionally beside OpenBLAS (FP32) through numpy, timed case by case in the same run.")
    static final class Kernels implements Callable<Integer> {

        @Option(names = "--peer", paramLabel = "NAME",
                description = "Also time the same products on a peer: openblas (numpy of the python3 on PATH).")
        String peer;

        @Mixin
        CommonOptions common = new CommonOptions();

        @Override
        public Integer call() throws Exception {
            int threads = common.begin();
            if (peer != null && !peer.equals("openblas")) {
                throw new BadInputException("--peer: unknown peer '" + peer + "'; the one peer is openblas");
            }
            List<KernelCase> cases = KernelBench.cases();
            try (OpenBlasPeer p = peer == null ? null : OpenBlasPeer.start(threads)) {
                KernelBench.printHeader(System.out, threads, p);
                List<KernelBench.Result> results = KernelBench.run(cases, threads, p, r -> KernelBench.printRow(System.out, r));
                if (common.report != null) Reports.write(common.report, KernelBench.report(results, threads, p));
            }
            return 0;
        }
    }
}
