package dev.whittle.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file format against an independent implementation: numpy and Python's json module read
 * what whittle writes, and whittle reads what they write (laid out as Python's
 * {@code safetensors} does). Python's {@code safetensors} package itself is not on the build
 * machines, so these scripts follow its layout by hand. Skipped when {@code python3} with numpy
 * is missing.
 */
class SafeTensorsPythonTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void needsPythonWithNumpy() {
        assumeTrue(run("import numpy").exitCode == 0, "python3 with numpy is not available");
    }

    private static final String READ_SCRIPT = """
            import hashlib, json, struct, sys
            import numpy as np
            raw = open(sys.argv[1], 'rb').read()
            (n,) = struct.unpack('<Q', raw[:8])
            header = json.loads(raw[8:8 + n].decode('utf-8'))
            data = raw[8 + n:]
            meta = header.pop('__metadata__', {})
            kinds = {'F32': '<f4', 'I8': 'i1', 'U8': 'u1', 'I32': '<i4'}
            tensors = {}
            for name, info in header.items():
                begin, end = info['data_offsets']
                arr = np.frombuffer(data[begin:end], dtype=kinds[info['dtype']]).reshape(info['shape'])
                flat = arr.view('<u4') if info['dtype'] == 'F32' else arr  # compare floats by their bits
                tensors[name] = {'shape': list(arr.shape), 'values': flat.ravel().tolist()}
            print(json.dumps({'aligned': (8 + n) % 8 == 0,
                              'sha256': hashlib.sha256(data).hexdigest(),
                              'metadata': meta, 'tensors': tensors}))
            """;

    @Test
    void numpyReadsWhatWhittleWrites() throws Exception {
        Path file = dir.resolve("model.safetensors");
        List<TensorEntry> tensors = SafeTensorsTest.sampleTensors();
        SafeTensors.write(file, Map.of("whittle.arch", "mlp(784,10)"), tensors);
        Result result = run(READ_SCRIPT, file.toString());
        assertEquals(0, result.exitCode, result.stderr);

        Map<?, ?> out = (Map<?, ?>) Json.parse(result.stdout.strip());
        assertEquals(true, out.get("aligned"));
        Map<?, ?> metadata = (Map<?, ?>) out.get("metadata");
        assertEquals("mlp(784,10)", metadata.get("whittle.arch"));
        assertEquals(metadata.get(SafeTensors.SHA256_KEY), out.get("sha256"), "hashlib agrees with whittle.sha256");

        Map<?, ?> seen = (Map<?, ?>) out.get("tensors");
        assertEquals(tensors.size(), seen.size());
        for (TensorEntry t : tensors) {
            Map<?, ?> info = (Map<?, ?>) seen.get(t.name());
            assertEquals(toLongs(t.shape()), info.get("shape"), t.name());
            assertEquals(expectedValues(t), info.get("values"), t.name());
        }
    }

    @Test
    void whittleReadsWhatPythonWrites() throws Exception {
        Path file = dir.resolve("from-python.safetensors");
        // Laid out as Python's safetensors does: sorted by element size (largest first) then
        // name, only {"format": ...} as metadata, header space-padded to 8 bytes.
        String script = """
                import json, struct, sys
                import numpy as np
                tensors = {
                    'b.weight': np.arange(6, dtype='<f4').reshape(2, 3) * np.float32(-0.5),
                    'a.bias': np.array([1, -2, 3], dtype='<i4'),
                    'scalar': np.array(2.5, dtype='<f8'),
                    'mask': np.array([True, False]),
                    'half': np.array([1.0, -2.0], dtype='<f2'),
                    'none': np.zeros((0, 4), dtype='<f4'),
                }
                names = {'float32': 'F32', 'int32': 'I32', 'float64': 'F64', 'bool': 'BOOL', 'float16': 'F16'}
                order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
                header, blobs, offset = {'__metadata__': {'format': 'np'}}, [], 0
                for k in order:
                    blob = tensors[k].tobytes()
                    header[k] = {'dtype': names[tensors[k].dtype.name], 'shape': list(tensors[k].shape),
                                 'data_offsets': [offset, offset + len(blob)]}
                    blobs.append(blob)
                    offset += len(blob)
                text = json.dumps(header, separators=(',', ':')).encode('utf-8')
                text += b' ' * (-len(text) % 8)
                open(sys.argv[1], 'wb').write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
                """;
        Result result = run(script, file.toString());
        assertEquals(0, result.exitCode, result.stderr);

        SafeTensorsFile read = SafeTensors.read(file);
        assertEquals(Map.of("format", "np"), read.metadata());
        assertEquals(List.of("scalar", "a.bias", "b.weight", "none", "half", "mask"),
                read.tensors().stream().map(TensorEntry::name).toList());
        float[] weights = read.require("b.weight").toFloats();
        assertArrayEquals(new int[] {2, 3}, read.require("b.weight").shape());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(weights[0]), "numpy's 0 * -0.5 is -0.0");
        assertArrayEquals(new float[] {-0f, -0.5f, -1f, -1.5f, -2f, -2.5f}, weights);
        assertArrayEquals(new int[] {1, -2, 3}, read.require("a.bias").toInts());
        TensorEntry scalar = read.require("scalar");
        assertEquals(DType.F64, scalar.dtype());
        assertArrayEquals(new int[0], scalar.shape());
        assertEquals(2.5, ByteBuffer.wrap(scalar.data()).order(ByteOrder.LITTLE_ENDIAN).getDouble());
        assertArrayEquals(new byte[] {1, 0}, read.require("mask").data());
        ByteBuffer half = ByteBuffer.wrap(read.require("half").data()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, Float.float16ToFloat(half.getShort()));
        assertEquals(-2f, Float.float16ToFloat(half.getShort()));
        assertEquals(0, read.require("none").elementCount());
    }

    @Test
    void pythonSeesTheSameChecksumWhittleStores() throws Exception {
        // Guards the claim that whittle.sha256 names the data section alone: the same tensors
        // with different metadata give the same digest.
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafeTensors.write(a, Map.of("x", "1"), SafeTensorsTest.sampleTensors());
        SafeTensors.write(b, Map.of("x", "a much longer value that changes the header length"), SafeTensorsTest.sampleTensors());
        String sa = SafeTensors.read(a).metadata().get(SafeTensors.SHA256_KEY);
        assertEquals(sa, SafeTensors.read(b).metadata().get(SafeTensors.SHA256_KEY));
        Result result = run(READ_SCRIPT, b.toString());
        assertEquals(0, result.exitCode, result.stderr);
        assertTrue(result.stdout.contains("\"sha256\": \"" + sa + "\""), result.stdout);
    }

    /** The values numpy reports: floats as their raw bits, integers as they are. */
    private static List<Long> expectedValues(TensorEntry t) {
        List<Long> values = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            values.add(switch (t.dtype()) {
                case F32 -> Integer.toUnsignedLong(b.getInt());
                case I32 -> (long) b.getInt();
                case I8 -> (long) b.get();
                case U8 -> (long) Byte.toUnsignedInt(b.get());
                default -> throw new AssertionError("no sample of " + t.dtype());
            });
        }
        return values;
    }

    private static List<Long> toLongs(int[] shape) {
        List<Long> out = new ArrayList<>();
        for (int d : shape) out.add((long) d);
        return out;
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private static Result run(String script, String... args) {
        List<String> command = new ArrayList<>(List.of("python3", "-c", script));
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("whittle-python", ".out");
            Path err = Files.createTempFile("whittle-python", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, "", "python3 timed out");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Result(-1, "", "cannot run python3: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", "interrupted");
        }
    }
}
