# The OpenBLAS peer of `whittle bench kernels`: times the same products through numpy, with the
# same loop as dev.whittle.bench.Timing (warm up, then samples of back-to-back calls until the
# budget is spent, median). Protocol, one JSON object per line on stdout:
#   first line   {"numpy": ..., "openblas_core": ..., ...}  or  {"error": "..."}
#   then, for each request line "sgemm nn|nt|tn M N K [WARMUP BUDGET]" or "sgemv M K [WARMUP BUDGET]"
#   on stdin (seconds; 0.25 and 0.6 when left out), {"seconds": median seconds per call}
import json
import os
import sys
import time


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import numpy as np
except Exception as e:  # numpy missing or broken: the Java side turns this into a one-line error
    say({"error": "python3 (%s) cannot import numpy: %s" % (sys.executable, e)})
    sys.exit(0)


def describe():
    info = {"python": sys.version.split()[0], "executable": sys.executable, "numpy": np.__version__,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = blas.get("name")
        info["blas_version"] = blas.get("version")
        info["openblas_config"] = blas.get("openblas configuration")
    except Exception:
        pass
    # Which kernel OpenBLAS picked at run time: threadpoolctl when installed, else ask the loaded
    # library itself (numpy's wheels bundle it as scipy_openblas, with a symbol prefix).
    try:
        import threadpoolctl
        for lib in threadpoolctl.threadpool_info():
            if lib.get("internal_api") == "openblas":
                info["openblas_core"] = lib.get("architecture")
                info["openblas_threads"] = lib.get("num_threads")
                info["openblas_version"] = lib.get("version")
                info["core_source"] = "threadpoolctl"
                return info
    except Exception:
        pass
    try:
        import ctypes
        paths = set()
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "openblas" in os.path.basename(path).lower() and ".so" in path:
                    paths.add(path)
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas_", "openblas_"):
                for suffix in ("64_", ""):
                    core = getattr(lib, prefix + "get_corename" + suffix, None)
                    if core is None:
                        continue
                    core.restype = ctypes.c_char_p
                    info["openblas_core"] = core().decode()
                    threads = getattr(lib, prefix + "get_num_threads" + suffix, None)
                    if threads is not None:
                        threads.restype = ctypes.c_int
                        info["openblas_threads"] = threads()
                    info["core_source"] = os.path.basename(path)
                    return info
    except Exception as e:
        info["core_error"] = str(e)
    return info


def median_seconds(op, warmup=0.25, budget=0.6):
    # warm up, and find how many back-to-back calls make a sample of about a millisecond or more
    op()
    start = time.perf_counter()
    calls = 0
    while True:
        op()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= warmup and calls >= 2:
            break
    per_call = elapsed / calls
    batch = max(1, int(1e-3 / per_call))
    samples = []
    spent = 0.0
    while spent < budget or len(samples) < 3:
        t0 = time.perf_counter()
        for _ in range(batch):
            op()
        dt = time.perf_counter() - t0
        samples.append(dt / batch)
        spent += dt
    samples.sort()
    return samples[len(samples) // 2]


def request(words):
    rng = np.random.default_rng(42)
    if words[0] == "sgemm":
        layout, m, n, k = words[1], int(words[2]), int(words[3]), int(words[4])
        timing = [float(t) for t in words[5:7]]
        a = (rng.random((k, m) if layout == "tn" else (m, k), dtype=np.float32) - 0.5)
        b = (rng.random((n, k) if layout == "nt" else (k, n), dtype=np.float32) - 0.5)
        x = a.T if layout == "tn" else a
        y = b.T if layout == "nt" else b
        c = np.empty((m, n), dtype=np.float32)
        return median_seconds(lambda: np.matmul(x, y, out=c), *timing)
    if words[0] == "sgemv":
        m, k = int(words[1]), int(words[2])
        timing = [float(t) for t in words[3:5]]
        a = rng.random((m, k), dtype=np.float32) - 0.5
        x = rng.random(k, dtype=np.float32) - 0.5
        y = np.empty(m, dtype=np.float32)
        return median_seconds(lambda: np.matmul(a, x, out=y), *timing)
    raise ValueError("unknown request " + " ".join(words))


say(describe())
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "quit":
        break
    try:
        say({"seconds": request(words)})
    except Exception as e:
        say({"error": str(e)})
