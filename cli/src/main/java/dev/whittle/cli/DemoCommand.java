package dev.whittle.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle demo}: the zero-setup tour on the embedded mnist-10k digits. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train lenet-300-100 on the embedded mnist-10k digits with the default recipe, evaluate it and save it.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "out/demo",
            description = "Where the demo writes its model (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        TrainCommand train = new TrainCommand();
        train.commandName = "demo";
        train.arch = "lenet-300-100";
        train.data.name = "mnist-10k";
        train.epochs = 10;
        train.batchSize = 128;
        train.lr = 1e-3f;
        train.optimizer = "adam";
        train.momentum = 0.9f;
        train.weightDecay = 0f;
        train.schedule = "constant";
        train.seed = 0;
        train.out = outDir.resolve("lenet-300-100.safetensors");
        train.common = common;
        System.out.println("whittle demo: train lenet-300-100 on mnist-10k (8,000 train / 2,000 test digits), evaluate, save.");
        System.out.println();
        int code = train.call();
        System.out.println();
        System.out.println("Look inside:  ./whittle inspect --model " + train.out);
        System.out.println("Evaluate:     ./whittle eval --model " + train.out + " --data mnist-10k");
        return code;
    }
}
