package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Chooses the kernel implementations once at start-up. {@code -Dwhittle.kernels=scalar} runs the
 * whole engine on the scalar twins (for learning, and for bisecting a wrong result).
 */
public final class Kernels {

    private static final boolean SCALAR = "scalar".equals(System.getProperty("whittle.kernels"));
    private static final FloatKernels FP32 = SCALAR ? new ScalarFloatKernels() : new VectorFloatKernels();

    private Kernels() {}

    /** The FP32 kernels in use. */
    public static FloatKernels fp32() {
        return FP32;
    }

    /** A one-line description of the chosen implementation and the vector width the JVM picked. */
    public static String describe() {
        if (SCALAR) return "scalar twins (-Dwhittle.kernels=scalar)";
        return "Vector API, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit ("
                + FloatVector.SPECIES_PREFERRED.length() + " floats per vector)";
    }
}
