package dev.whittle.engine.train;

/** Accuracy, mean cross-entropy and the confusion matrix ({@code confusion[true][predicted]}). */
public record Evaluation(int count, double accuracy, double meanLoss, int[][] confusion) {}
