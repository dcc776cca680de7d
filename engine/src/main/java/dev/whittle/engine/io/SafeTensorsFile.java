package dev.whittle.engine.io;

import dev.whittle.engine.BadInputException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A safetensors file as read and checked by {@link SafeTensors#read}: its {@code __metadata__}
 * (in header order, including whittle's own {@code whittle.*} keys), its tensors in data-section
 * order, and its sizes on disk. Both collections are unmodifiable.
 *
 * @param headerBytes the JSON header's length as the file states it (padding included)
 * @param fileBytes   the whole file's size
 */
public record SafeTensorsFile(Path path, Map<String, String> metadata, List<TensorEntry> tensors,
                              long headerBytes, long fileBytes) {

    public SafeTensorsFile {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(tensors);
    }

    /** The tensor with this name, or null. */
    public TensorEntry get(String name) {
        for (TensorEntry t : tensors) {
            if (t.name().equals(name)) return t;
        }
        return null;
    }

    /** The tensor with this name; a file without it is bad input. */
    public TensorEntry require(String name) throws BadInputException {
        TensorEntry t = get(name);
        if (t != null) return t;
        String present = tensors.isEmpty() ? "it has no tensors"
                : "it has " + tensors.stream().limit(8).map(TensorEntry::name).collect(Collectors.joining(", "))
                + (tensors.size() > 8 ? " and " + (tensors.size() - 8) + " more" : "");
        throw new BadInputException(path + ": no tensor named '" + name + "' (" + present + ")");
    }
}
