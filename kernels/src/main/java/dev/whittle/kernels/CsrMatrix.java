package dev.whittle.kernels;

import java.util.Arrays;

/**
 * A pruned weight matrix {@code [rows x cols]} in compressed sparse row form, the layout the
 * {@link SparseKernels} read. Immutable: the factories copy their input.
 *
 * <pre>
 *   dense  [ 0  a  0  b ]      rowPointers   = [0, 2, 2, 3]      row r is the nonzeros
 *          [ 0  0  0  0 ]      columnIndices = [1, 3, 0]          rowPointers[r] .. rowPointers[r+1]-1,
 *          [ c  0  0  0 ]      values        = [a, b, c]          in increasing column order
 * </pre>
 *
 * Column indices are kept as {@code int}: the Vector API's gather takes its index map from an
 * {@code int[]}, and a 16-bit copy would have to be widened into one before every row.
 */
public final class CsrMatrix {

    private final int rows;
    private final int cols;
    final int[] rowPointers;
    final int[] columnIndices;
    final float[] values;

    private CsrMatrix(int rows, int cols, int[] rowPointers, int[] columnIndices, float[] values) {
        this.rows = rows;
        this.cols = cols;
        this.rowPointers = rowPointers;
        this.columnIndices = columnIndices;
        this.values = values;
    }

    /**
     * Keeps the nonzeros of {@code dense[rows x cols]} (row-major, from {@code off}); zeros of
     * either sign are dropped.
     *
     * @throws IllegalArgumentException on a bad shape, an offset outside the array, or a value
     *     that is not finite
     */
    public static CsrMatrix of(float[] dense, int off, int rows, int cols) {
        checkShape(rows, cols);
        if (off < 0 || (long) off + (long) rows * cols > dense.length) {
            throw new IllegalArgumentException("dense [" + rows + ", " + cols + "] at offset " + off
                    + " does not fit in " + dense.length + " floats");
        }
        int nnz = 0;
        for (int i = off; i < off + rows * cols; i++) {
            float v = dense[i];
            if (!Float.isFinite(v)) {
                int e = i - off;
                throw new IllegalArgumentException("value [" + e / cols + ", " + e % cols + "] is " + v + ", not finite");
            }
            if (v != 0f) nnz++;
        }
        int[] pointers = new int[rows + 1];
        int[] indices = new int[nnz];
        float[] vals = new float[nnz];
        int p = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = dense[off + r * cols + c];
                if (v != 0f) {
                    indices[p] = c;
                    vals[p++] = v;
                }
            }
            pointers[r + 1] = p;
        }
        return new CsrMatrix(rows, cols, pointers, indices, vals);
    }

    /**
     * Takes the three CSR arrays (copied) after checking that they describe a matrix: {@code rows + 1}
     * pointers from 0, never decreasing, the last equal to the number of nonzeros; column indices in
     * {@code [0, cols)} and strictly increasing within a row; finite values.
     *
     * @throws IllegalArgumentException naming the first problem found
     */
    public static CsrMatrix of(int rows, int cols, int[] rowPointers, int[] columnIndices, float[] values) {
        checkShape(rows, cols);
        if (rowPointers.length != rows + 1) {
            throw new IllegalArgumentException("rowPointers has " + rowPointers.length + " entries, expected rows + 1 = " + (rows + 1));
        }
        if (columnIndices.length != values.length) {
            throw new IllegalArgumentException("columnIndices has " + columnIndices.length + " entries but values has " + values.length);
        }
        if (rowPointers[0] != 0) throw new IllegalArgumentException("rowPointers[0] is " + rowPointers[0] + ", expected 0");
        for (int r = 0; r < rows; r++) {
            if (rowPointers[r + 1] < rowPointers[r]) {
                throw new IllegalArgumentException("rowPointers decrease at row " + r + ": " + rowPointers[r] + " then " + rowPointers[r + 1]);
            }
        }
        if (rowPointers[rows] != values.length) {
            throw new IllegalArgumentException("rowPointers[" + rows + "] is " + rowPointers[rows] + " but there are " + values.length + " nonzeros");
        }
        for (int r = 0; r < rows; r++) {
            for (int p = rowPointers[r]; p < rowPointers[r + 1]; p++) {
                int c = columnIndices[p];
                if (c < 0 || c >= cols) {
                    throw new IllegalArgumentException("column index " + c + " of row " + r + " (entry " + p + ") is outside [0, " + cols + ")");
                }
                if (p > rowPointers[r] && c <= columnIndices[p - 1]) {
                    throw new IllegalArgumentException("column indices of row " + r + " are not strictly increasing: "
                            + columnIndices[p - 1] + " then " + c + " (entry " + p + ")");
                }
                if (!Float.isFinite(values[p])) {
                    throw new IllegalArgumentException("value [" + r + ", " + c + "] (entry " + p + ") is " + values[p] + ", not finite");
                }
            }
        }
        return new CsrMatrix(rows, cols, rowPointers.clone(), columnIndices.clone(), values.clone());
    }

    private static void checkShape(int rows, int cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("sparse matrix [" + rows + ", " + cols + "] is empty");
    }

    /** Rows (outputs of a Linear layer). */
    public int rows() {
        return rows;
    }

    /** Columns (inputs of a Linear layer). */
    public int cols() {
        return cols;
    }

    /** Stored entries. */
    public int nnz() {
        return values.length;
    }

    /** Stored entries over {@code rows x cols}: 1 - sparsity. */
    public double density() {
        return (double) values.length / ((double) rows * cols);
    }

    /** A copy of the {@code rows + 1} row pointers. */
    public int[] rowPointers() {
        return rowPointers.clone();
    }

    /** A copy of the column index of each stored entry. */
    public int[] columnIndices() {
        return columnIndices.clone();
    }

    /** A copy of the stored values. */
    public float[] values() {
        return values.clone();
    }

    /** The matrix as a dense row-major {@code float[rows * cols]}. */
    public float[] toDense() {
        float[] d = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int p = rowPointers[r]; p < rowPointers[r + 1]; p++) d[r * cols + columnIndices[p]] = values[p];
        }
        return d;
    }

    /** Bytes of the three arrays as held: 4 per pointer, 4 per column index, 4 per value. */
    public long storedBytes() {
        return 4L * rowPointers.length + 4L * columnIndices.length + 4L * values.length;
    }

    @Override
    public String toString() {
        return "CsrMatrix[" + rows + " x " + cols + ", nnz " + nnz() + "]";
    }

    // ---- the argument checks every implementation of SparseKernels makes ----

    void checkSpmv(float[] x, int xOff, float[] y, int yOff) {
        checkRange("x", x, xOff, cols);
        checkRange("y", y, yOff, rows);
    }

    void checkSpmmNT(int m, float[] x, int xOff, float[] bias, float[] y, int yOff) {
        if (m < 0) throw new IllegalArgumentException("batch m = " + m + " is negative");
        checkRange("x", x, xOff, (long) m * cols);
        checkRange("y", y, yOff, (long) m * rows);
        if (bias != null && bias.length < rows) {
            throw new IllegalArgumentException("bias has " + bias.length + " floats, expected at least " + rows);
        }
    }

    private static void checkRange(String name, float[] a, int off, long n) {
        if (off < 0 || off + n > a.length) {
            throw new IllegalArgumentException(name + ": " + n + " floats at offset " + off + " do not fit in " + a.length);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsrMatrix m && m.rows == rows && m.cols == cols && Arrays.equals(m.rowPointers, rowPointers)
                && Arrays.equals(m.columnIndices, columnIndices) && Arrays.equals(m.values, values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rows + cols) + Arrays.hashCode(values);
    }
}
