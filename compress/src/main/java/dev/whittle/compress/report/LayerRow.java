package dev.whittle.compress.report;

/**
 * One weighted layer of a model as a compression report shows it: its weight shape, how many
 * bits a stored weight value has (32 for FP32, 8 or 4 for integer weights), how many shared
 * values it draws from (0 when it is not weight-shared), the fraction of zero weights, the
 * storage format of its weight in the file, and the bytes its tensors take there.
 */
public record LayerRow(int index, String layer, int[] shape, int bits, int clusters, double sparsity, String format, long bytes) {}
