package dev.whittle.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whittle.kernels.Parallel;
import dev.whittle.kernels.Im2col;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

/** The convolution benchmark times what it names, on the shapes it says (no speed is asserted). */
class ConvKernelBenchmarkTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void jmhRunsTheShapesMainRuns() throws Exception {
        Param p = ConvKernelBenchmark.class.getField("shape").getAnnotation(Param.class);
        assertArrayEquals(ConvKernelBenchmark.SHAPES, p.value());
    }

    @Test
    void everyPieceComputesWhatItNamesOnEveryShape() {
        for (String shape : ConvKernelBenchmark.SHAPES) {
            // building the cases checks that the direct and the lowered forward passes agree bit for bit
            ConvKernelBenchmark.Cases c = new ConvKernelBenchmark.Cases(shape, 7);
            for (Runnable op : ConvKernelBenchmark.ops(c)) op.run();
            // the GEMM's contract: every element one FMA chain in order from zero (and, summed over
            // the batch, on from the previous sample's value)
            // the weight gradient, dW[o][q] = sum over samples and pixels p of dY[o][p] * cols[q][p]
            int n = ConvKernelBenchmark.BATCH;
            float[] cols = new float[c.patch * c.plane], dw = new float[c.outC * c.patch];
            for (int b = 0; b < n; b++) {
                Im2col.im2col(c.x, b * c.inSize, c.inC, c.size, c.size, c.kernel, 1, c.pad, cols, 0);
                for (int o = 0; o < c.outC; o++) {
                    for (int q = 0; q < c.patch; q++) {
                        float s = b == 0 ? 0f : dw[o * c.patch + q];
                        for (int p = 0; p < c.plane; p++) s = Math.fma(c.dy[b * c.outSize + o * c.plane + p], cols[q * c.plane + p], s);
                        dw[o * c.patch + q] = s;
                    }
                }
            }
            assertArrayEquals(dw, c.dw, shape + " weight gradient");
            // the input gradient of every sample, W^T . dY folded back onto the image by col2im
            float[] dcols = new float[c.patch * c.plane], dx = new float[c.x.length];
            for (int b = 0; b < n; b++) {
                for (int q = 0; q < c.patch; q++) {
                    for (int p = 0; p < c.plane; p++) {
                        float s = 0f;
                        for (int o = 0; o < c.outC; o++) s = Math.fma(c.w[o * c.patch + q], c.dy[b * c.outSize + o * c.plane + p], s);
                        dcols[q * c.plane + p] = s;
                    }
                }
                Im2col.col2im(dcols, 0, c.inC, c.size, c.size, c.kernel, 1, c.pad, dx, b * c.inSize);
            }
            assertArrayEquals(dx, c.dx, shape + " input gradient");
            // pooling ran over the forward pass's output
            int half = c.out / 2;
            for (int o = 0; o < ConvKernelBenchmark.BATCH * c.outC; o++) {
                for (int i = 0; i < half * half; i++) {
                    int oy = i / half, ox = i % half, base = o * c.plane + 2 * oy * c.out + 2 * ox;
                    float max = Math.max(Math.max(c.y[base], c.y[base + 1]), Math.max(c.y[base + c.out], c.y[base + c.out + 1]));
                    assertEquals(max, c.pooled[o * half * half + i], shape + " pool " + o + "," + i);
                }
            }
        }
    }

    @Test
    void aShapeWithoutFiveFieldsIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ConvKernelBenchmark.Cases("1:6:28:5", 1));
        assertThrows(IllegalArgumentException.class, () -> new ConvKernelBenchmark.Cases("1:6:4:5:0", 1));
    }
}
