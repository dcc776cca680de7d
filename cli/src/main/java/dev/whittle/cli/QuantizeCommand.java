package dev.whittle.cli;

import dev.whittle.compress.quantize.Observers;
import dev.whittle.compress.quantize.PostTrainingQuantizer;
import dev.whittle.compress.quantize.QuantizationAwareTraining;
import dev.whittle.compress.quantize.QuantizationConfig;
import dev.whittle.compress.quantize.Sensitivity;
import dev.whittle.compress.report.InferenceTiming;
import dev.whittle.datasets.DataSplit;
import dev.whittle.engine.BadInputException;
import dev.whittle.engine.io.Json;
import dev.whittle.engine.io.ModelFile;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.engine.quant.ActivationMode;
import dev.whittle.engine.quant.QuantizedConv2d;
import dev.whittle.engine.quant.QuantizedLayer;
import dev.whittle.engine.quant.QuantizedLinear;
import dev.whittle.engine.quant.QuantizedModel;
import dev.whittle.engine.quant.QuantizedWeights;
import dev.whittle.engine.train.EpochStats;
import dev.whittle.engine.train.Evaluation;
import dev.whittle.engine.train.Evaluator;
import dev.whittle.engine.train.TrainConfig;
import dev.whittle.kernels.Kernels;
import dev.whittle.kernels.QuantParams;
import dev.whittle.kernels.QuantParams.Granularity;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code whittle quantize}: post-training quantization of a trained FP32 model, with its cost and savings measured. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a trained model to INT8 or INT4 integer kernels.",
                "Post-training calibration on training samples, optionally folding batch norms, equalizing layers, correcting biases, GPTQ rounding or quantization-aware fine-tuning; saves it and reports accuracy, size, batch-1 latency and batch-64 throughput before and after."})
final class QuantizeCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The trained FP32 model (.safetensors).")
    Path modelPath;

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--bits", defaultValue = "8", description = "Weight bits: 8 (INT8 weights and activations) or 4 (INT4 weights) (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--weights", paramLabel = "G", description = "Weight granularity: tensor, channel (INT8; default channel) or group:N, N = 32, 64, 128 (INT4; default group:64).")
    String weights;

    @Option(names = "--activations", paramLabel = "BITS", description = "8 or 32. With --bits 8 activations are int8 (default). With --bits 4: 32 keeps FP32 activations (default), 8 quantizes them per group at run time (W4A8).")
    Integer activations;

    @Option(names = "--scheme", defaultValue = "asym", description = "Activation quantization: asym (calibrated zero point) or sym (zero point 0) (default: ${DEFAULT-VALUE}).")
    String scheme;

    @Option(names = "--calibration", defaultValue = "minmax",
            description = "How activation ranges are estimated: minmax, ema, percentile:P (e.g. percentile:99.99), mse or entropy (default: ${DEFAULT-VALUE}).")
    String calibration;

    @Option(names = "--method", defaultValue = "rtn", description = "How weights are rounded: rtn (to nearest) or gptq (error-compensating, Frantar et al. 2022) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--fold-bn", description = "Fold batch norms into the Linear or Conv2d before them first.")
    boolean foldBn;

    @Option(names = "--equalize", description = "Cross-layer equalization of ReLU chains first (Nagel et al. 2019).")
    boolean equalize;

    @Option(names = "--bias-correction", description = "Correct each bias for the mean output shift its weight rounding causes (Nagel et al. 2019).")
    boolean biasCorrection;

    @Option(names = "--qat-epochs", paramLabel = "E", defaultValue = "0", description = "Quantization-aware fine-tuning epochs after calibration (default: ${DEFAULT-VALUE}: none).")
    int qatEpochs;

    @Option(names = "--qat-lr", paramLabel = "LR", defaultValue = "1e-4", description = "Learning rate of the quantization-aware fine-tuning (Adam) (default: ${DEFAULT-VALUE}).")
    float qatLr;

    @Option(names = "--sensitivity", description = "Also quantize each layer alone and report the accuracy it costs.")
    boolean sensitivity;

    @Option(names = "--calib-samples", paramLabel = "N", defaultValue = "1000", description = "Training samples for calibration (default: ${DEFAULT-VALUE}).")
    int calibSamples;

    @Option(names = "--keep-float", paramLabel = "I,J", split = ",", description = "Indices of layers to keep in FP32 (see whittle inspect).")
    List<Integer> keepFloat = new ArrayList<>();

    @Option(names = "--int8-layers", paramLabel = "I,J", split = ",",
            description = "With --bits 4: indices of layers to quantize to INT8 instead (per channel, int8 activations): mixed precision.")
    List<Integer> int8Layers = new ArrayList<>();

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the calibration draw (and of a csv: test split) (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "300", description = "Timed runs at batch 1 and at batch 64 per model, after warm-up; 0 skips timing (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to save the quantized model (.safetensors).")
    Path out;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public Integer call() throws Exception {
        int threads = common.begin();
        CommonOptions.checkOutputPath("--out", out);
        QuantizationConfig config = config();
        if (runs != 0 && (runs < 5 || runs > 1_000_000)) throw new BadInputException("--runs: must be 0 or between 5 and 1000000, got " + runs);
        ModelFile.Loaded loaded = ModelFile.load(modelPath);
        data.defaultTo(loaded.metadata(), modelPath);
        Sequential model = loaded.floatModel(modelPath);
        for (int i : config.keepFloat()) {
            if (i < 0 || i >= model.layers().size() || !PostTrainingQuantizer.quantizable(model.layers().get(i))) {
                throw new BadInputException("--keep-float: layer " + i + " is not a Linear or Conv2d of " + modelPath + " (see whittle inspect)");
            }
        }
        for (int i : config.int8Layers()) {
            if (i < 0 || i >= model.layers().size() || !PostTrainingQuantizer.quantizable(model.layers().get(i))) {
                throw new BadInputException("--int8-layers: layer " + i + " is not a Linear or Conv2d of " + modelPath + " (see whittle inspect)");
            }
            if (config.keepFloat().contains(i)) throw new BadInputException("--int8-layers: layer " + i + " is also in --keep-float");
        }
        boolean anyQuantized = false;
        for (int i = 0; i < model.layers().size(); i++) {
            if (PostTrainingQuantizer.quantizable(model.layers().get(i)) && !config.keepFloat().contains(i)) anyQuantized = true;
        }
        if (!anyQuantized) {
            throw new BadInputException("--keep-float " + keepFloat.toString().replaceAll("[\\[\\] ]", "") + ": every Linear and Conv2d of "
                    + modelPath + " would stay FP32; nothing is left to quantize");
        }
        DataSplit split = data.open(seed);
        ModelStats.checkInputs(modelPath, model, data.name, split.train().sampleShape());
        PrintStream o = System.out;
        o.println("model    " + modelPath + "  (" + model.arch() + ")");
        o.println("scheme   " + describe(config) + ", weights by " + method + (foldBn ? ", batch norms folded" : "")
                + (equalize ? ", layers equalized" : "") + (biasCorrection ? ", bias corrected" : ""));
        o.println("calib    " + calibration + " on " + Math.min(calibSamples, split.train().size()) + " training samples (seed " + seed
                + "); " + threads + " thread(s); kernels: " + Kernels.describe());

        long t0 = System.nanoTime();
        QuantizedModel quantized;
        List<EpochStats> qatHistory = null;
        if (qatEpochs > 0) {
            TrainConfig training = TrainConfig.defaults().withEpochs(qatEpochs).withSeed(seed).withLearningRate(qatLr);
            o.println("quantization-aware fine-tuning: " + qatEpochs + " epochs, adam lr " + qatLr + ", batch " + training.batchSize());
            Progress.header(o);
            QuantizationAwareTraining.Result r = QuantizationAwareTraining.run(model, split.train(), split.test(), config, training,
                    new Progress(qatEpochs));
            quantized = r.quantized();
            qatHistory = r.epochs();
        } else {
            quantized = PostTrainingQuantizer.quantize(model, split.train(), config);
        }
        double quantizeSeconds = (System.nanoTime() - t0) / 1e9;

        Map<String, String> meta = new LinkedHashMap<>(loaded.metadata());
        meta.keySet().removeIf(k -> k.startsWith("whittle.") && !DataOptions.DATA_KEYS.contains(k));
        meta.put("whittle.recipe", recipe(loaded.metadata().get("whittle.recipe")));
        Evaluation before = Evaluator.evaluate(model, split.test(), 256);
        Evaluation after = Evaluator.evaluate(quantized, split.test(), 256);
        meta.put("whittle.metrics", Json.write(Map.of("accuracy", after.accuracy())));
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        ModelFile.save(quantized, out, meta);
        ModelFile.Loaded written = ModelFile.load(out);

        List<InferenceTiming.Result> timing = runs == 0 ? null : InferenceTiming.measure(List.of(model, quantized), split.test(), runs);

        List<Object> layers = printLayers(o, quantized);
        if (sensitivity) {
            List<Sensitivity.LayerResult> sens = Sensitivity.analyze(model, split.train(), split.test(), config, before.accuracy());
            o.println();
            o.println("sensitivity: each layer quantized alone (the others in fp32), test accuracy and drop");
            for (Sensitivity.LayerResult lr : sens) {
                o.printf(Locale.ROOT, "%-3d %-16s %8.2f%% %+8.2f points%n", lr.index(), lr.layer(), 100 * lr.accuracy(), -lr.dropPoints());
                for (Object row : layers) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) row;
                    if (m.get("layer").equals(lr.layer()) && ((Integer) m.get("index")) == lr.index() && !config.foldBatchNorm()) {
                        m.put("sensitivity_accuracy", lr.accuracy());
                        m.put("sensitivity_drop_points", lr.dropPoints());
                    }
                }
            }
        }
        Map<String, Object> baseline = ModelStats.of(model, before.accuracy(), loaded.fileBytes(), loaded.headerBytes());
        Map<String, Object> fin = ModelStats.of(quantized, after.accuracy(), written.fileBytes(), written.headerBytes());
        if (timing != null) {
            ModelStats.putTiming(baseline, timing.get(0));
            ModelStats.putTiming(fin, timing.get(1));
        }
        o.println();
        o.printf("%-22s %14s %14s%n", "", "fp32", "quantized");
        o.printf(Locale.ROOT, "%-22s %13.2f%% %13.2f%%%n", "test accuracy", 100 * before.accuracy(), 100 * after.accuracy());
        o.printf(Locale.ROOT, "%-22s %,14d %,14d%n", "file bytes", loaded.fileBytes(), written.fileBytes());
        if (timing != null) {
            o.printf(Locale.ROOT, "%-22s %14.1f %14.1f%n", "latency p50 (us, b=1)", timing.get(0).latencyUsP50(), timing.get(1).latencyUsP50());
            o.printf(Locale.ROOT, "%-22s %14.1f %14.1f%n", "latency p95 (us, b=1)", timing.get(0).latencyUsP95(), timing.get(1).latencyUsP95());
            o.printf(Locale.ROOT, "%-22s %14.0f %14.0f%n", "samples/s (b=64)", timing.get(0).throughputPerSecond(), timing.get(1).throughputPerSecond());
        }
        double ratio = (double) loaded.fileBytes() / written.fileBytes();
        o.println();
        o.printf(Locale.ROOT, "accuracy drop %.2f points; %s", 100 * (before.accuracy() - after.accuracy()), Reports.smaller(ratio, "%.2f"));
        if (timing != null) {
            o.printf(Locale.ROOT, "; latency %.2fx of fp32; throughput %.2fx of fp32",
                    timing.get(1).latencyUsP50() / timing.get(0).latencyUsP50(),
                    timing.get(1).throughputPerSecond() / timing.get(0).throughputPerSecond());
        }
        o.println();
        o.printf(Locale.ROOT, "saved %s (%,d bytes, header %,d bytes); quantized in %.1f s%n", out, written.fileBytes(), written.headerBytes(), quantizeSeconds);

        if (common.report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "quantize");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("model", modelPath.toString());
            settings.put("data", data.name);
            settings.put("bits", bits);
            settings.put("weights", weightsLabel(config));
            settings.put("activations", config.activations().label());
            settings.put("scheme", scheme);
            settings.put("calibration", calibration);
            settings.put("method", method);
            settings.put("fold_bn", foldBn);
            settings.put("equalize", equalize);
            settings.put("bias_correction", biasCorrection);
            settings.put("qat_epochs", qatEpochs);
            if (qatEpochs > 0) settings.put("qat_lr", qatLr);
            settings.put("sensitivity", sensitivity);
            settings.put("calib_samples", calibSamples);
            settings.put("keep_float", new ArrayList<>(config.keepFloat()));
            if (!int8Layers.isEmpty()) settings.put("int8_layers", new ArrayList<>(config.int8Layers()));
            settings.put("seed", seed);
            settings.put("runs", runs);
            settings.put("threads", threads);
            settings.put("out", out.toString());
            r.put("settings", settings);
            r.put("baseline", baseline);
            r.put("final", fin);
            r.put("compression_ratio", ratio);
            if (timing != null) r.put("speedup", timing.get(0).latencyUsP50() / timing.get(1).latencyUsP50());
            r.put("accuracy_drop_points", 100 * (before.accuracy() - after.accuracy()));
            r.put("layers", layers);
            if (qatHistory != null) {
                r.put("qat_epochs", ModelStats.epochs(qatHistory));
            }
            Reports.write(common.report, r);
        }
        return 0;
    }

    private static List<Object> printLayers(PrintStream o, QuantizedModel q) {
        List<Object> rows = new ArrayList<>();
        o.println();
        o.printf("%-3s %-16s %-4s %-12s %-14s %-24s %s%n", "#", "layer", "bits", "weights", "activations", "weight scales", "input (scale, zero point)");
        for (Map.Entry<Integer, QuantizedLayer> e : q.quantizedLayers().entrySet()) {
            QuantizedLayer l = e.getValue();
            QuantizedWeights w = l instanceof QuantizedLinear ql ? ql.weights() : ((QuantizedConv2d) l).weights();
            ActivationMode acts = l instanceof QuantizedLinear ql ? ql.activations() : ((QuantizedConv2d) l).activations();
            QuantParams in = l instanceof QuantizedLinear ql ? ql.inputQuantization() : ((QuantizedConv2d) l).inputQuantization();
            float lo = Float.POSITIVE_INFINITY, hi = 0f;
            for (float s : w.scales()) {
                lo = Math.min(lo, s);
                hi = Math.max(hi, s);
            }
            String g = switch (w.granularity()) {
                case PER_TENSOR -> "tensor";
                case PER_CHANNEL -> "channel";
                case PER_GROUP -> "group:" + w.groupSize();
            };
            String input = in == null ? "-" : String.format(Locale.ROOT, "%.4g, %d", in.scales()[0], in.zeroPoints()[0]);
            o.printf(Locale.ROOT, "%-3d %-16s %-4d %-12s %-14s %-24s %s%n", e.getKey(), l.spec(), w.bits(), g, acts.label(),
                    String.format(Locale.ROOT, "%.3g .. %.3g", lo, hi), input);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", e.getKey());
            row.put("layer", l.spec());
            row.put("bits", w.bits());
            row.put("granularity", g);
            row.put("activations", acts.label());
            row.put("scale_min", lo);
            row.put("scale_max", hi);
            if (in != null) {
                row.put("input_scale", in.scales()[0]);
                row.put("input_zero_point", in.zeroPoints()[0]);
            }
            row.put("bytes", w.storedBytes());
            rows.add(row);
        }
        return rows;
    }

    private QuantizationConfig config() throws BadInputException {
        if (bits != 8 && bits != 4) throw new BadInputException("--bits: must be 8 or 4, got " + bits);
        try {
            Observers.parse(calibration);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--calibration: " + e.getMessage());
        }
        QuantizationConfig.WeightMethod weightMethod = switch (method) {
            case "rtn" -> QuantizationConfig.WeightMethod.RTN;
            case "gptq" -> QuantizationConfig.WeightMethod.GPTQ;
            default -> throw new BadInputException("--method: must be rtn or gptq, got \"" + method + "\"");
        };
        if (qatEpochs < 0 || qatEpochs > 10_000) throw new BadInputException("--qat-epochs: must be between 0 and 10000, got " + qatEpochs);
        if (!(qatLr > 0f) || Float.isInfinite(qatLr)) throw new BadInputException("--qat-lr: must be a positive number, got " + qatLr);
        if (qatEpochs > 0 && weightMethod == QuantizationConfig.WeightMethod.GPTQ) {
            throw new BadInputException("--method gptq with --qat-epochs: the fine-tuned weights are converted by rounding to nearest (as they were trained); use one or the other");
        }
        if (calibSamples < 1 || calibSamples > 10_000_000) throw new BadInputException("--calib-samples: must be between 1 and 10000000, got " + calibSamples);
        boolean symmetric = switch (scheme) {
            case "sym" -> true;
            case "asym" -> false;
            default -> throw new BadInputException("--scheme: must be sym or asym, got \"" + scheme + "\"");
        };
        String w = weights != null ? weights : bits == 8 ? "channel" : "group:64";
        Granularity g;
        int group = 0;
        if (w.equals("tensor")) g = Granularity.PER_TENSOR;
        else if (w.equals("channel")) g = Granularity.PER_CHANNEL;
        else if (w.startsWith("group:")) {
            g = Granularity.PER_GROUP;
            try {
                group = Integer.parseInt(w.substring(6));
            } catch (NumberFormatException e) {
                group = -1;
            }
            if (group != 32 && group != 64 && group != 128) throw new BadInputException("--weights: group size must be 32, 64 or 128, got \"" + w + "\"");
        } else {
            throw new BadInputException("--weights: must be tensor, channel or group:N, got \"" + w + "\"");
        }
        if (bits == 8 && g == Granularity.PER_GROUP) throw new BadInputException("--weights: INT8 weights are per tensor or per channel, not " + w);
        if (bits == 4 && g != Granularity.PER_GROUP) throw new BadInputException("--weights: INT4 weights are per group (group:32, group:64 or group:128), not " + w);
        int acts = activations != null ? activations : bits == 8 ? 8 : 32;
        if (acts != 8 && acts != 32) throw new BadInputException("--activations: must be 8 or 32, got " + acts);
        if (bits == 8 && acts == 32) {
            throw new BadInputException("--activations 32 with --bits 8: INT8 weights run on the integer kernels with int8 activations; use --activations 8");
        }
        ActivationMode mode = bits == 8 ? ActivationMode.INT8 : acts == 8 ? ActivationMode.INT8_DYNAMIC : ActivationMode.FLOAT;
        if (bits == 8 && !int8Layers.isEmpty()) throw new BadInputException("--int8-layers: only with --bits 4 (with --bits 8 every layer is INT8)");
        return new QuantizationConfig(bits, g, group, mode, symmetric, calibration, calibSamples, seed, new LinkedHashSet<>(keepFloat),
                weightMethod, foldBn, equalize, biasCorrection, new LinkedHashSet<>(int8Layers));
    }

    private static String weightsLabel(QuantizationConfig c) {
        return switch (c.weights()) {
            case PER_TENSOR -> "tensor";
            case PER_CHANNEL -> "channel";
            case PER_GROUP -> "group:" + c.groupSize();
        };
    }

    private static String describe(QuantizationConfig c) {
        return "int" + c.bits() + " weights (" + weightsLabel(c) + "), " + switch (c.activations()) {
            case INT8 -> "int8 activations (" + (c.symmetricActivations() ? "sym" : "asym") + ")";
            case FLOAT -> "fp32 activations";
            case INT8_DYNAMIC -> "int8 activations per group at run time";
        };
    }

    private String recipe(String previous) {
        String mine = "quantize --bits " + bits + " --method " + method + (foldBn ? " --fold-bn" : "") + (equalize ? " --equalize" : "")
                + (biasCorrection ? " --bias-correction" : "") + (qatEpochs > 0 ? " --qat-epochs " + qatEpochs + " --qat-lr " + qatLr : "") + (weights != null ? " --weights " + weights : "") + (activations != null ? " --activations " + activations : "")
                + " --scheme " + scheme + " --calibration " + calibration + " --calib-samples " + calibSamples
                + (keepFloat.isEmpty() ? "" : " --keep-float " + keepFloat.toString().replaceAll("[\\[\\] ]", ""))
                + (int8Layers.isEmpty() ? "" : " --int8-layers " + int8Layers.toString().replaceAll("[\\[\\] ]", "")) + " --seed " + seed;
        return previous == null ? mine : previous + " | " + mine;
    }
}
