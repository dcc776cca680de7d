package dev.whittle.engine.io;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The two checksums whittle keeps for a data section, computed in one pass: CRC-32C, cheap and
 * good at catching a flipped or truncated byte, and SHA-256, so a file can name its own content
 * (the digest lives in the header it does not cover).
 */
final class DataSectionDigest {

    /** The finished checksums as lowercase hex: 8 digits for CRC-32C, 64 for SHA-256. */
    record Checksums(String crc32c, String sha256) {}

    private final CRC32C crc = new CRC32C();
    private final MessageDigest sha256;

    DataSectionDigest() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java runtime must provide SHA-256", e);
        }
    }

    void update(byte[] bytes) {
        crc.update(bytes);
        sha256.update(bytes);
    }

    /** Ends the computation; call once. */
    Checksums finish() {
        HexFormat hex = HexFormat.of();
        return new Checksums(hex.toHexDigits((int) crc.getValue()), hex.formatHex(sha256.digest()));
    }
}
