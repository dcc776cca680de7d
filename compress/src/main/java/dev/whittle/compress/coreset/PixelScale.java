package dev.whittle.compress.coreset;

/**
 * The normalisation an image dataset applies, {@code x = (v / 255 - mean) / std} for a byte
 * {@code v}, and its inverse, which turns a normalised (possibly synthetic) image back into
 * bytes: {@code v = round(255 * (mean + std * x))}, clamped to 0..255 (a synthetic pixel may
 * wander outside the range real pixels span; the clamp is the image format's, not a repair).
 */
public record PixelScale(double mean, double std) {

    public PixelScale {
        if (!(std > 0) || !Double.isFinite(mean) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("need a finite mean and a positive std, got " + mean + ", " + std);
        }
    }

    public float normalise(int v) {
        return (float) ((v / 255.0 - mean) / std);
    }

    public int toByte(float x) {
        long v = Math.round(255 * (mean + std * x));
        return (int) Math.max(0, Math.min(255, v));
    }

    /** Every value of {@code x} as a byte. */
    public byte[] toBytes(float[] x) {
        byte[] b = new byte[x.length];
        for (int i = 0; i < x.length; i++) b[i] = (byte) toByte(x[i]);
        return b;
    }

    /** Every byte of {@code b} normalised. */
    public float[] normalise(byte[] b) {
        float[] x = new float[b.length];
        for (int i = 0; i < b.length; i++) x[i] = normalise(b[i] & 0xff);
        return x;
    }
}
