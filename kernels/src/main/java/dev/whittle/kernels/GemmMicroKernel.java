package dev.whittle.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile of {@link Gemm}: {@code MR x NR = 6 x (2 vectors)} of C held in twelve
 * accumulators while p walks down one packed A micro-panel and one packed B micro-panel.
 *
 * <pre>
 *   A micro-panel (kc x MR, p-major)     B micro-panel (kc x NR, p-major)
 *   a[p*6 + 0..5]  = A(i..i+5, p)        b[p*NR + 0..NR-1] = B(p, j..j+NR-1)
 *
 *   for p:  b0, b1 = two vector loads of B's row p
 *           for r in 0..5:  x = broadcast(A(i+r, p));  c[r][0] = fma(x, b0, c[r][0]);  c[r][1] = fma(x, b1, c[r][1])
 * </pre>
 *
 * Why 6 x 16 on AVX2 (sixteen ymm registers: 12 accumulators, 2 rows of B, 2 broadcasts), all
 * measured on this Zen 3 with packed data in L1, interleaved rounds, medians:
 * <ul>
 *   <li>Alone on a quiet core, 4x16, 5x16 and 6x16 all reach ~95-100 GFLOPS, the peak of two
 *       8-wide FMA pipes at 3.1 GHz. On a shared host (most of the time here) 4x16 drops to
 *       ~50-60 and 6x16 holds ~65-90: with only eight independent FMA chains, any cycle another
 *       tenant takes shows; twelve chains leave slack. The same ranking holds for the same loops
 *       written in C with intrinsics (gcc -O3): 4x16 ~50, 5x16 ~64, 6x16 ~78-91.</li>
 *   <li>Written plainly, C2 schedules a third broadcast register live in the 6x16 loop, runs out
 *       of registers and spills an accumulator: a store-to-load round trip on one FMA chain, and
 *       the kernel falls to ~40. The {@code if (p == never) break;} lines cut the loop body into
 *       basic blocks, which C2 schedules one at a time, so at most two broadcasts are live and
 *       nothing spills (checked in the disassembly: 12 FMAs, 2 loads, 6 broadcasts, no stack
 *       traffic per step). Unrolling p, or 4x24 (three rows of B), spill the same way.</li>
 *   <li>General-purpose registers run short too (x86 leaves C2 about thirteen). With C's six row
 *       offsets live around the loop (loaded at the start, stored at the end), JDK 25's C2 parked
 *       B's base in an xmm register and moved it back every step, or reloaded B and {@code ao}
 *       from the stack (seen in the disassembly of the kernel inside the full GEMM). So the tile
 *       starts and ends in a contiguous buffer {@code t} the caller copies C into and out of
 *       (24 vector moves per 256 steps): then the loop is 12 FMAs, 2 loads, 6 broadcasts and
 *       eight scalar instructions (JDK 25.0.3 compiles twelve: it recomputes both panel indices
 *       from p every step, sign-extends one, and keeps one of the two split tests). Medians of
 *       interleaved rounds, kernel alone in L1: 66 against 57 GFLOPS in slow spells of the
 *       host, 89 against 86 in quiet ones; 1024^3 GEMM: 52 against 49, 70 against 67; 2048^3:
 *       64 against 57. Unrolling p by two still spills
 *       (C2 schedules across the splits, or with distinct split tests keeps their constants in
 *       registers and reloads B from the stack): 64-68 against 98-101 GFLOPS, kernel alone in L1.
 *       A store to {@code t} between the two halves (a float[] store, which C2 keeps the second
 *       half's float[] loads below) stops the spills, and the loop then has 8 scalar
 *       instructions a step instead of 10, but ran at 0.95-0.97x of this loop (97 GFLOPS); by
 *       four with three such stores it spills again (0.62-0.66x); A padded to 8 floats a step with one induction
 *       variable for both panels cut the scalar work to 5 instructions a step but ran 0.8-0.9x;
 *       two A panels interleaved in 16-float steps (B's step), so that B's loop index plus an
 *       invariant offset indexes A (eight scalar instructions a step as compiled): 0.99x, medians of
 *       per-round ratios over 100-200 interleaved rounds, panels in L1 and in L2.
 *       The packed operands' alignment (0, 16, 32, 48 B) made no difference.</li>
 *   <li>Constant strides: the same loop with a run-time row stride for A or B ran 15-40% slower
 *       (range checks with a variable scale are not hoisted), hence both operands are packed.
 *       Two induction variables ({@code bp += NR, ap += MR}, meant to save the index arithmetic)
 *       ran at 0.67-0.74x.</li>
 * </ul>
 *
 * <p>Every element of the tile is one FMA chain in p order, started from C (or zero): exactly
 * the sequence every other path of {@link Gemm} uses, so where a tile falls never changes a bit.
 * The method (680 bytes of bytecode) is above C2's inlining limit, so it is compiled on its own
 * and called once per tile (thousands of FMAs per call); inside it every Vector API call is
 * intrinsified (checked with {@code -XX:+PrintInlining}).
 */
final class GemmMicroKernel {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Rows of the register tile. */
    static final int MR = 6;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * L;

    private GemmMicroKernel() {}

    /**
     * {@code t[0 .. MR*NR), row stride NR} = (t or 0) + A-panel . B-panel over {@code kc} steps;
     * {@code load} says whether the tile starts from t's current values (the caller copies C in).
     * {@code never} is a step index the loop never reaches (-1), passed in so that C2 cannot fold
     * the splits away. The tile lives in the contiguous {@code t} rather than in C so that no row
     * offsets of C are live around the loop (see the class comment).
     */
    static void tile(int kc, float[] a, int ao, float[] b, int bo, float[] t, boolean load, int never) {
        FloatVector r00, r01, r10, r11, r20, r21, r30, r31, r40, r41, r50, r51;
        if (load) {
            r00 = FloatVector.fromArray(S, t, 0 * L);
            r01 = FloatVector.fromArray(S, t, 1 * L);
            r10 = FloatVector.fromArray(S, t, 2 * L);
            r11 = FloatVector.fromArray(S, t, 3 * L);
            r20 = FloatVector.fromArray(S, t, 4 * L);
            r21 = FloatVector.fromArray(S, t, 5 * L);
            r30 = FloatVector.fromArray(S, t, 6 * L);
            r31 = FloatVector.fromArray(S, t, 7 * L);
            r40 = FloatVector.fromArray(S, t, 8 * L);
            r41 = FloatVector.fromArray(S, t, 9 * L);
            r50 = FloatVector.fromArray(S, t, 10 * L);
            r51 = FloatVector.fromArray(S, t, 11 * L);
        } else {
            r00 = r01 = r10 = r11 = r20 = r21 = r30 = r31 = r40 = r41 = r50 = r51 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            // indices as base + p * constant: the form C2 hoists range checks out of
            int bp = bo + p * NR, ap = ao + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            r00 = x.fma(b0, r00);
            r01 = x.fma(b1, r01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            r10 = x.fma(b0, r10);
            r11 = x.fma(b1, r11);
            // never taken; it splits the loop body into basic blocks, which C2 schedules one by
            // one, so no more than two broadcasts are live at once (see the class comment)
            if (p == never) break;
            x = FloatVector.broadcast(S, a[ap + 2]);
            r20 = x.fma(b0, r20);
            r21 = x.fma(b1, r21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            r30 = x.fma(b0, r30);
            r31 = x.fma(b1, r31);
            if (p == never) break;
            x = FloatVector.broadcast(S, a[ap + 4]);
            r40 = x.fma(b0, r40);
            r41 = x.fma(b1, r41);
            x = FloatVector.broadcast(S, a[ap + 5]);
            r50 = x.fma(b0, r50);
            r51 = x.fma(b1, r51);
        }
        r00.intoArray(t, 0 * L);
        r01.intoArray(t, 1 * L);
        r10.intoArray(t, 2 * L);
        r11.intoArray(t, 3 * L);
        r20.intoArray(t, 4 * L);
        r21.intoArray(t, 5 * L);
        r30.intoArray(t, 6 * L);
        r31.intoArray(t, 7 * L);
        r40.intoArray(t, 8 * L);
        r41.intoArray(t, 9 * L);
        r50.intoArray(t, 10 * L);
        r51.intoArray(t, 11 * L);
    }
}
