package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

/**
 * Chooses the kernel implementations once at start-up. {@code -Dwhittle.kernels=scalar} runs the
 * whole engine on the scalar twins (for learning, and for bisecting a wrong result).
 */
public final class Kernels {

    private static final boolean SCALAR = "scalar".equals(System.getProperty("whittle.kernels"));
    private static final FloatKernels FP32 = SCALAR ? new ScalarFloatKernels() : new VectorFloatKernels();
    /** The integer kernels are laid out for 256-bit vectors; narrower JVMs get the twins. */
    private static final boolean SCALAR_INT = SCALAR || ShortVector.SPECIES_PREFERRED.vectorBitSize() < 256;
    private static final QuantKernels QUANT = SCALAR_INT ? new ScalarQuantKernels() : new VectorQuantKernels();
    private static final Int8Kernels INT8 = SCALAR_INT ? new ScalarInt8Kernels() : new VectorInt8Kernels();
    private static final Int4Kernels INT4 = SCALAR_INT ? new ScalarInt4Kernels() : new VectorInt4Kernels();
    /** The sparse kernels' eight partial sums are the lanes of a 256-bit vector; narrower JVMs get the twin. */
    private static final SparseKernels SPARSE = SCALAR_INT ? new ScalarSparseKernels() : new VectorSparseKernels();

    private Kernels() {}

    /** The FP32 kernels in use. */
    public static FloatKernels fp32() {
        return FP32;
    }

    /** The quantize/dequantize kernels in use. */
    public static QuantKernels quant() {
        return QUANT;
    }

    /** The INT8 kernels in use. */
    public static Int8Kernels int8() {
        return INT8;
    }

    /** The INT4 kernels in use. */
    public static Int4Kernels int4() {
        return INT4;
    }

    /** The sparse (CSR) kernels in use. */
    public static SparseKernels sparse() {
        return SPARSE;
    }

    /** A one-line description of the chosen implementation and the vector width the JVM picked. */
    public static String describe() {
        if (SCALAR) return "scalar twins (-Dwhittle.kernels=scalar)";
        return "Vector API, " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit ("
                + FloatVector.SPECIES_PREFERRED.length() + " floats per vector)";
    }
}
