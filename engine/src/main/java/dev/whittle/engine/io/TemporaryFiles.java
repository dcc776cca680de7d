package dev.whittle.engine.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** The temporary files whittle writes an output to before renaming it into place. */
public final class TemporaryFiles {

    private TemporaryFiles() {}

    /**
     * Creates an empty, hidden, uniquely named file ({@code .name.tmp-<random>}) in {@code directory}.
     * Unlike {@link Files#createTempFile}, which makes the file readable by its owner only, this keeps
     * the usual permissions, which the output inherits when the temporary file is renamed.
     */
    public static Path createBeside(Path directory, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong());
            Path candidate = directory.resolve("." + name + ".tmp-" + suffix);
            try {
                return Files.createFile(candidate);
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 16) throw taken;
            }
        }
    }
}
