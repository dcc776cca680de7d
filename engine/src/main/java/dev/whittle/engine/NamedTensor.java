package dev.whittle.engine;

/** A tensor with its name in a state dict. */
public record NamedTensor(String name, Tensor tensor) {}
