package dev.whittle.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Model;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Sequential;
import dev.whittle.kernels.QuantParams.Granularity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * {@link Model#predict} as a program embedding a model relies on it: the result is the caller's
 * (a later call leaves it alone), and calls from several threads on one model give the answers
 * of calls made one after another. Both failed before (the layers' reused buffers came back as the
 * result; four threads on one model got 30-85% of their answers wrong).
 */
class PredictContractTest {

    private static final int[] INPUT = {1, 8, 8};

    private static List<Model> models() throws BadInputException {
        String spec = "conv(4,3,pad=1) relu maxpool(2) flatten linear(16) relu linear(5)";
        Sequential fp32 = QuantizedModelTest.floatModel(spec, INPUT, 3);
        Sequential toQuantize = QuantizedModelTest.floatModel(spec, INPUT, 3);
        QuantizedModel int8 = QuantizedModel.build(toQuantize,
                QuantizedModelTest.w8a8Plans(toQuantize, QuantizedModelTest.batch(32, INPUT, 4), Granularity.PER_CHANNEL));
        return List.of(fp32, int8);
    }

    @Test
    void aResultIsNotChangedByTheNextCall() throws BadInputException {
        for (Model m : models()) {
            Tensor a = QuantizedModelTest.batch(2, INPUT, 5), b = QuantizedModelTest.batch(2, INPUT, 6);
            Tensor ya = m.predict(a);
            float[] kept = ya.data().clone();
            m.predict(b);
            assertArrayEquals(kept, ya.data(), m.getClass().getSimpleName());
        }
    }

    @Test
    void concurrentCallsOnOneModelGiveTheSequentialAnswers() throws Exception {
        for (Model m : models()) {
            Tensor[] inputs = new Tensor[6];
            float[][] want = new float[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = QuantizedModelTest.batch(1 + i % 3, INPUT, 10 + i);
                want[i] = m.predict(inputs[i]).data();
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> wrong = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int offset = t;
                    wrong.add(pool.submit(() -> {
                        int n = 0;
                        for (int rep = 0; rep < 500; rep++) {
                            int i = (rep + offset) % inputs.length;
                            if (!Arrays.equals(want[i], m.predict(inputs[i]).data())) n++;
                        }
                        return n;
                    }));
                }
                for (Future<Integer> f : wrong) assertEquals(0, f.get(), m.getClass().getSimpleName() + ": wrong answers");
            } finally {
                pool.shutdown();
            }
        }
    }
}
