package dev.whittle.compress.quantize;

/** Stub until GPTQ lands. */
final class HessianAccumulator {
    HessianAccumulator(int cols) {}
    void addRows(float[] x, int off, int rows) {}
    void addConv(float[] x, int batch, int[] shape, int k, int s, int p) {}
    double[] hessian() { throw new UnsupportedOperationException("GPTQ is not built yet"); }
}
