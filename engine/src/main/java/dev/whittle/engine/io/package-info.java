/**
 * Files in and out of the engine: the model file ({@link dev.whittle.engine.io.SafeTensors}, the
 * Hugging Face safetensors layout with whittle's checksums in its metadata) and a small strict
 * {@link dev.whittle.engine.io.Json} reader and writer for headers and reports. Everything read
 * here is checked before it is trusted; problems in a file are reported as
 * {@link dev.whittle.engine.BadInputException} naming the file.
 */
package dev.whittle.engine.io;
