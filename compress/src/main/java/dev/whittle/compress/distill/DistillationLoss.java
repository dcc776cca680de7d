package dev.whittle.compress.distill;

import dev.whittle.engine.Tensor;
import dev.whittle.kernels.FloatKernels;
import dev.whittle.kernels.Kernels;

/**
 * The knowledge-distillation loss of Hinton, Vinyals and Dean (2015): the student matches the
 * teacher's softened distribution, mixed with the ordinary cross-entropy on the labels,
 *
 * <pre>
 *   L = alpha * T^2 * KL( softmax(t / T) || softmax(s / T) )  +  (1 - alpha) * CE( softmax(s), y )
 *
 *   dL/ds = alpha * T * ( softmax(s / T) - softmax(t / T) )  +  (1 - alpha) * ( softmax(s) - onehot(y) )
 * </pre>
 *
 * averaged over the batch. The soft term's gradients shrink as 1/T² when T grows; the factor T²
 * keeps their weight against the hard term the same whatever T, as the paper advises.
 */
public final class DistillationLoss {

    private static final FloatKernels K = Kernels.fp32();

    private final float temperature;
    private final float alpha;
    private float[] logStudentSoft = new float[0], logTeacherSoft = new float[0], logStudent = new float[0];
    private float[] scaled = new float[0];
    private Tensor grad;
    private int[] labels;
    private int batch, classes;

    public DistillationLoss(float temperature, float alpha) {
        if (!(temperature > 0f) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (!(alpha >= 0f && alpha <= 1f)) throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        this.temperature = temperature;
        this.alpha = alpha;
    }

    /** The mean loss over the batch of {@code student} logits against {@code teacher} logits and labels. */
    public float forward(Tensor student, float[] teacher, int teacherOff, int[] labels) {
        batch = student.dim(0);
        classes = student.dim(1);
        int n = batch * classes;
        if (logStudent.length < n) {
            logStudentSoft = new float[n];
            logTeacherSoft = new float[n];
            logStudent = new float[n];
            scaled = new float[n];
        }
        this.labels = labels;
        float[] s = student.data();
        float invT = 1f / temperature;
        for (int i = 0; i < n; i++) scaled[i] = s[i] * invT;
        K.logSoftmax(batch, classes, scaled, logStudentSoft);
        for (int i = 0; i < n; i++) scaled[i] = teacher[teacherOff + i] * invT;
        K.logSoftmax(batch, classes, scaled, logTeacherSoft);
        K.logSoftmax(batch, classes, s, logStudent);
        double kl = 0, ce = 0;
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < classes; j++) {
                int o = b * classes + j;
                double pt = StrictMath.exp(logTeacherSoft[o]);
                kl += pt * (logTeacherSoft[o] - logStudentSoft[o]);
            }
            int y = labels[b];
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " outside 0.." + (classes - 1));
            ce -= logStudent[b * classes + y];
        }
        return (float) ((alpha * temperature * temperature * kl + (1 - alpha) * ce) / batch);
    }

    /** The gradient of the last forward's loss with respect to the student's logits. */
    public Tensor backward() {
        if (grad == null || grad.dim(0) != batch || grad.dim(1) != classes) grad = Tensor.zeros(batch, classes);
        float[] g = grad.data();
        float inv = 1f / batch, soft = alpha * temperature, hard = 1f - alpha;
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < classes; j++) {
                int o = b * classes + j;
                float ps = (float) StrictMath.exp(logStudentSoft[o]), pt = (float) StrictMath.exp(logTeacherSoft[o]);
                float p = (float) StrictMath.exp(logStudent[o]);
                g[o] = (soft * (ps - pt) + hard * (p - (j == labels[b] ? 1f : 0f))) * inv;
            }
        }
        return grad;
    }

    public float temperature() {
        return temperature;
    }

    public float alpha() {
        return alpha;
    }
}
