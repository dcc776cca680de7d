package dev.whittle.engine.io;

/**
 * The element types a safetensors file can hold that whittle reads, named as in the header's
 * {@code "dtype"} field. All are stored little-endian; {@code BOOL} takes one byte per element.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype with this header name, or null; unlike {@link #valueOf} it does not throw. */
    static DType byName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }
}
