package dev.whittle.datasets;

/**
 * The mean and standard deviation of pixel values scaled to [0, 1], measured once over a
 * training split and then applied to every split, so that test images are normalised with
 * what training saw.
 */
record PixelStats(double mean, double std) {

    /** The population mean and standard deviation of {@code pixels[from..to)} read as unsigned bytes over 255. */
    static PixelStats of(byte[] pixels, int from, int to) {
        if (to <= from) throw new IllegalArgumentException("no pixels in [" + from + ", " + to + ")");
        // Integer sums are exact (at most 2^31 * 255^2 < 2^63), so the result does not depend on
        // summation order and the variance formula below loses nothing to cancellation in the sums.
        long sum = 0;
        long sumOfSquares = 0;
        for (int i = from; i < to; i++) {
            int v = pixels[i] & 0xff;
            sum += v;
            sumOfSquares += v * v;
        }
        double n = to - from;
        double mean = sum / n;
        double variance = Math.max(0, sumOfSquares / n - mean * mean);
        double std = Math.sqrt(variance) / 255;
        // A constant image set has nothing to scale; dividing by 1 keeps the values finite.
        return new PixelStats(mean / 255, std > 0 ? std : 1);
    }

    /** The normalised value of each of the 256 byte values: (v/255 - mean) / std. */
    float[] lookupTable() {
        float[] table = new float[256];
        for (int v = 0; v < 256; v++) table[v] = (float) ((v / 255.0 - mean) / std);
        return table;
    }
}
