"""The PyTorch build bench/train.ts compares against, and the machine's sgemm rate, as one JSON line.

- build: torch.__config__.show()'s BLAS_INFO, USE_MKLDNN (oneDNN), CPU capability, the oneDNN
  version, and the BLAS library actually mapped into the process (Debian's torch links the generic
  libblas.so.3, which the alternatives system points at OpenBLAS or the reference BLAS);
- sgemm: float32 matrix product C = A B (torch.mm, so the BLAS above) at 1 and 2 threads,
  best of 5 after a warm-up, in GFLOP/s (2 n^3 / s), n = 1024 and 2048. OpenBLAS keeps a thread
  pool of its own (all cores by default, whatever torch.set_num_threads says), so its thread count
  is set too, through openblas_set_num_threads.

Usage: /usr/bin/python3 bench/torch_info.py
"""
import ctypes, json, re, time
import torch

shown = torch.__config__.show()


def setting(name):
    m = re.search(name + r"=([^,\n]*)", shown)
    return m.group(1).strip() if m else None


def mapped_libraries():
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if len(line.split()) >= 6 and re.search(r"blas|mkl|dnnl", line.split()[-1])})


torch.mm(torch.rand(8, 8), torch.rand(8, 8))  # loads the BLAS
openblas = next((ctypes.CDLL(lib) for lib in mapped_libraries() if "libopenblas" in lib), None)


def sgemm(n, threads):
    torch.set_num_threads(threads)
    if openblas is not None:
        openblas.openblas_set_num_threads(threads)
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


default_threads = torch.get_num_threads()
rates = {f"{n}x{n}, {t} thread{'s' if t > 1 else ''}": round(sgemm(n, t), 1) for n in (1024, 2048) for t in (1, 2)}
blas = mapped_libraries()
onednn = re.search(r"MKL-DNN v([\d.]+)|oneDNN v([\d.]+)", shown)
print(json.dumps({
    "torch": torch.__version__,
    "defaultThreads": default_threads,
    "blasInfo": setting("BLAS_INFO"),
    "blasLoaded": blas,
    "mkldnn": setting("USE_MKLDNN"),
    "mkldnnAvailable": torch.backends.mkldnn.is_available(),
    "onednnVersion": next((g for g in onednn.groups() if g), None) if onednn else None,
    "cpuCapability": (re.search(r"CPU capability usage: (\w+)", shown) or [None, None])[1],
    "sgemmGflops": rates,
}))
