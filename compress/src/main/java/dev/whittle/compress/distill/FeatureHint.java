package dev.whittle.compress.distill;

import dev.whittle.engine.Layer;
import dev.whittle.engine.Parameter;
import dev.whittle.engine.Rng;
import dev.whittle.engine.Tensor;
import dev.whittle.engine.nn.Conv2d;
import dev.whittle.engine.nn.Linear;
import java.util.Arrays;
import java.util.List;

/**
 * A FitNets hint (Romero et al. 2015): an intermediate student activation, mapped by a learned
 * adapter (a Linear for flat features, a 1x1 convolution for feature maps of the same height and
 * width), is pulled towards the teacher's activation at a chosen layer by
 * {@code beta * mean((adapter(s) - t)^2)}. The adapter is trained with the student and thrown
 * away afterwards.
 */
public final class FeatureHint {

    private final int teacherLayer;
    private final int studentLayer;
    private final float beta;
    private final Layer adapter;
    private Tensor grad;

    /** A hint between the outputs of teacher layer {@code teacherLayer} and student layer {@code studentLayer}. */
    public FeatureHint(int teacherLayer, int[] teacherShape, int studentLayer, int[] studentShape, float beta, Rng rng) {
        if (!(beta > 0f) || Float.isInfinite(beta)) throw new IllegalArgumentException("hint weight must be positive, got " + beta);
        this.teacherLayer = teacherLayer;
        this.studentLayer = studentLayer;
        this.beta = beta;
        if (teacherShape.length == 1 && studentShape.length == 1) {
            adapter = new Linear(studentShape[0], teacherShape[0], rng);
        } else if (teacherShape.length == 3 && studentShape.length == 3 && teacherShape[1] == studentShape[1]
                && teacherShape[2] == studentShape[2]) {
            adapter = new Conv2d(studentShape, teacherShape[0], 1, 1, 0, rng);
        } else {
            throw new IllegalArgumentException("a hint needs two flat features or two feature maps of the same height and width: teacher "
                    + Arrays.toString(teacherShape) + ", student " + Arrays.toString(studentShape));
        }
    }

    public int teacherLayer() {
        return teacherLayer;
    }

    public int studentLayer() {
        return studentLayer;
    }

    public float beta() {
        return beta;
    }

    /** The adapter's parameters, trained with the student. */
    public List<Parameter> parameters() {
        return adapter.parameters();
    }

    /**
     * The hint loss for one batch, and (kept for {@link #backward}) its gradient with respect to the
     * student's activation.
     */
    public float forward(Tensor student, Tensor teacher) {
        Tensor a = adapter.forward(student, true);
        float[] av = a.data(), tv = teacher.data();
        if (av.length != tv.length) throw new IllegalArgumentException("adapter gives " + av.length + " values, teacher " + tv.length);
        if (grad == null || grad.size() != av.length) grad = Tensor.zeros(a.shape());
        float[] g = grad.data();
        double loss = 0;
        float scale = 2f * beta / av.length;
        for (int i = 0; i < av.length; i++) {
            float d = av[i] - tv[i];
            loss += (double) d * d;
            g[i] = scale * d;
        }
        return (float) (beta * loss / av.length);
    }

    /** The gradient with respect to the student activation of the last forward (adapter gradients accumulated). */
    public Tensor backward() {
        return adapter.backward(grad);
    }
}
