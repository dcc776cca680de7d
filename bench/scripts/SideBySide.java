import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Times one kernel of two whittle builds side by side in one JVM: each jar gets its own class
 * loader, the two take turns call by call, and the median of the per-call ratios is printed.
 * Separate JVMs read the same build 10-30% apart on this shared host (slow spells, JIT timing);
 * in one JVM, call by call, a 5% change shows. One thread.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -XX:+UseTransparentHugePages \
 *       bench/scripts/SideBySide.java OLD.jar NEW.jar int8|int4|int8gemm|sgemv [ROUNDS]
 * </pre>
 *
 * int8: INT8 GEMV 4096 x 4096; int4: INT4 W4A8 GEMV 4096 x 4096 (group 64); int8gemm: INT8 GEMM
 * 1024 x 1024 x 256; sgemv: FP32 GEMV 4096 x 4096. Both builds get the same operands.
 */
public class SideBySide {

    interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SideBySide OLD.jar NEW.jar int8|int4|int8gemm|sgemv [ROUNDS]");
            System.exit(2);
        }
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 300;
        Call a = call(args[0], args[2]), b = call(args[1], args[2]);
        for (int i = 0; i < 50; i++) {
            a.run();
            b.run();
        }
        long[] ta = new long[rounds], tb = new long[rounds];
        double[] ratio = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            a.run();
            long t1 = System.nanoTime();
            b.run();
            long t2 = System.nanoTime();
            ta[i] = t1 - t0;
            tb[i] = t2 - t1;
            ratio[i] = (double) ta[i] / tb[i];
        }
        Arrays.sort(ta);
        Arrays.sort(tb);
        Arrays.sort(ratio);
        System.out.printf("%s: %s %d us, %s %d us (medians of %d calls); median of per-call ratios %.3f (> 1: the second is faster)%n",
                args[2], new File(args[0]).getName(), ta[rounds / 2] / 1000, new File(args[1]).getName(),
                tb[rounds / 2] / 1000, rounds, ratio[rounds / 2]);
    }

    /** One call of the kernel {@code kind} of the build in {@code jar}, on operands from a fixed seed. */
    static Call call(String jar, String kind) throws Exception {
        ClassLoader cl = new URLClassLoader(new URL[] {new File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> kernels = cl.loadClass("dev.whittle.kernels.Kernels");
        cl.loadClass("dev.whittle.kernels.Parallel").getMethod("setThreads", int.class).invoke(null, 1);
        SplittableRandom r = new SplittableRandom(1);
        switch (kind) {
            case "int4" -> {
                int n = 4096, k = 4096;
                Class<?> matrix = cl.loadClass("dev.whittle.kernels.Int4Matrix");
                Object w = matrix.getMethod("quantize", float[].class, int.class, int.class, int.class, int.class)
                        .invoke(null, floats(r, n * k), 0, n, k, 64);
                float[] x = floats(r, k), y = new float[n];
                Object k4 = kernels.getMethod("int4").invoke(null);
                Method m = accessible(k4.getClass().getMethod("gemmA8", int.class, float[].class, int.class, matrix,
                        float[].class, boolean.class, float[].class, int.class));
                return () -> m.invoke(k4, 1, x, 0, w, null, false, y, 0);
            }
            case "int8", "int8gemm" -> {
                int rows = kind.equals("int8") ? 1 : 1024, n = kind.equals("int8") ? 4096 : 1024, k = kind.equals("int8") ? 4096 : 256;
                Class<?> matrix = cl.loadClass("dev.whittle.kernels.Int8Matrix");
                Class<?> requant = cl.loadClass("dev.whittle.kernels.Int8Requantization");
                byte[] wb = new byte[n * k], x = new byte[rows * k], y = new byte[rows * n];
                for (int i = 0; i < wb.length; i++) wb[i] = (byte) (r.nextInt(255) - 127);
                for (int i = 0; i < x.length; i++) x[i] = (byte) (r.nextInt(256) - 128);
                float[] scales = new float[n];
                Arrays.fill(scales, 0.01f);
                Object w = matrix.getMethod("pack", byte[].class, int.class, int.class, int.class).invoke(null, wb, 0, n, k);
                Object rq = requant.getMethod("of", float.class, float[].class, float.class, int.class, int[].class, boolean.class)
                        .invoke(null, 0.02f, scales, 1f, 0, null, true);
                Object k8 = kernels.getMethod("int8").invoke(null);
                Method m = accessible(k8.getClass().getMethod("gemm", int.class, byte[].class, int.class, int.class, matrix,
                        requant, byte[].class, int.class));
                return () -> m.invoke(k8, rows, x, 0, 0, w, rq, y, 0);
            }
            case "sgemv" -> {
                int n = 4096, k = 4096;
                float[] a = floats(r, n * k), x = floats(r, k), y = new float[n];
                Object f = kernels.getMethod("fp32").invoke(null);
                Method m = accessible(f.getClass().getMethod("gemv", int.class, int.class, float[].class, int.class,
                        float[].class, int.class, float[].class, int.class, boolean.class));
                return () -> m.invoke(f, n, k, a, 0, x, 0, y, 0, false);
            }
            default -> throw new IllegalArgumentException("unknown kernel " + kind + " (int8, int4, int8gemm or sgemv)");
        }
    }

    private static Method accessible(Method m) {
        m.setAccessible(true);
        return m;
    }

    private static float[] floats(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return v;
    }
}
