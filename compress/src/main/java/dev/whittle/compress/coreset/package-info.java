/**
 * Dataset distillation: train on a few well-chosen or synthesised images per class.
 *
 * <p>Selection, class by class under a {@link dev.whittle.compress.coreset.Budget} (a count per
 * class, or a fraction of each class): {@link dev.whittle.compress.coreset.RandomSelection} (the
 * baseline), {@link dev.whittle.compress.coreset.Herding} (Welling 2009) and
 * {@link dev.whittle.compress.coreset.KCenterGreedy} (Sener and Savarese 2018) in pixel space or
 * a trained model's penultimate {@link dev.whittle.compress.coreset.Embedding}, and the scores of
 * {@link dev.whittle.compress.coreset.ForgettingScores} (Toneva et al. 2019) and
 * {@link dev.whittle.compress.coreset.El2nScores} (Paul et al. 2021), kept highest first by
 * {@link dev.whittle.compress.coreset.ScoreSelection}. Every selector returns indices grouped by
 * class and is deterministic from its seed.
 *
 * <p>Synthesis: {@link dev.whittle.compress.coreset.DistributionMatching} (Zhao and Bilen 2023).
 *
 * <p>Evaluation ({@link dev.whittle.compress.coreset.SubsetEvaluation}): K fresh models, seeds
 * 0..K-1, each trained for a fixed number of Adam steps ({@link dev.whittle.compress.coreset.StepTraining},
 * batch {@code min(256, subset size)}) rather than epochs, since an epoch of ten images is a single
 * step; test accuracy as mean and standard deviation over the runs.
 *
 * <p>Output: images are stored as bytes. A selected image is its original bytes (the dataset's
 * normalisation inverted exactly by {@link dev.whittle.compress.coreset.PixelScale}); a synthetic
 * image is mapped back the same way with the real data's mean and standard deviation, rounded and
 * clamped to 0..255. {@link dev.whittle.compress.coreset.PngGrid} draws them one class per row.
 */
package dev.whittle.compress.coreset;
