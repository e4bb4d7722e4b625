"""Regenerates fixtures/fid/: two image folders, the FID that pytorch-fid's pipeline computes between
them in PyTorch, pytorch-fid's .npz statistics of each, .npz files of numpy's other flavours, and
numpy's reading of the .npz that aekit writes. test/eval/fid-folders.test.ts, test/core/npz.test.ts
and test/cli/fid.test.ts check `aekit fid` against them.

  /usr/bin/python3 scripts/make-fid-fixtures.py

Needs Debian's python3-torch, python3-torchvision, python3-scipy and python3-pil, the reduced
Inception of fixtures/metrics/inception/ (scripts/make-inception-fixture.py: its network is rebuilt
here from the same seed and checked against its stored features), and node with aekit's
node_modules (aekit writes fixtures/fid/a-aekit.npz, which numpy then reads). Python is used here
only, never by aekit or its tests.

The reference is pytorch-fid's (src/pytorch_fid/fid_score.py): ImagePathDataset reads each file with
`Image.open(path).convert('RGB')` and `ToTensor()`; InceptionV3 resizes to 299x299 (bilinear,
align_corners=False) and maps to [-1, 1]; `calculate_activation_statistics` takes `np.mean` and
`np.cov(rowvar=False)` of the pool3 features; `calculate_frechet_distance` uses scipy's sqrtm;
`--save-stats` writes `np.savez_compressed(path, mu=mu, sigma=sigma)`. Images of one size are run
together, sizes apart (pytorch-fid's DataLoader stacks a batch, so it needs --batch-size 1 there).

Files:
  a/                    160 RGB 24x24 PNGs in two subfolders (set1/, set2/deep/), and notes.txt
  b/                    flat: 75 MNIST test digits (28x28 gray PNG) and 75 RGB 20x28 (HxW) PNGs, 5 of
                        them RGBA with random transparency (ignored, as PIL's convert('RGB') does);
                        readme.txt and a hidden .hidden.png
  a-pytorch-fid.npz     pytorch-fid's --save-stats of a/ (PyTorch's features), savez_compressed
  b-pytorch-fid.npz     the same of b/
  a-aekit.npz           `aekit fid a/ --save-stats a-aekit.npz --kid` (reduced Inception), as numpy reads it
  npz/*.npz             numpy's flavours: deflated, float32, float16, big-endian, Fortran order, ints,
                        other keys
  reference.json        the FID of a/ vs b/, counts, versions, the flavours' values, numpy's view of a-aekit.npz
"""
import importlib.util
import json
import os
import platform
import subprocess
import sys

import numpy as np
import scipy
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as TF
from PIL import Image
from scipy import linalg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "fid")
INCEPTION_DIR = os.path.join(ROOT, "fixtures", "metrics", "inception")
NETWORK = os.path.join(INCEPTION_DIR, "reduced-inception.onnx")

SEED = 20
A_PER_SET = 80
B_DIGITS = 75
B_FIELDS = 75
B_TRANSPARENT = 5

spec = importlib.util.spec_from_file_location("make_inception_fixture", os.path.join(ROOT, "scripts", "make-inception-fixture.py"))
inception = importlib.util.module_from_spec(spec)
spec.loader.exec_module(inception)


def rebuild_network():
    """The reduced Inception of fixtures/metrics/inception, rebuilt as make-inception-fixture.py builds
    it (same seeds, same order of random draws), behind pytorch-fid's own resize and normalisation."""
    torch.manual_seed(inception.SEED)
    rng = np.random.default_rng(inception.SEED)
    torch.set_num_threads(2)
    net = inception.ReducedInception(resize_input=False, normalize_input=False)
    calibration = torch.cat([2 * F.interpolate(inception.pytorch_fid_input(u8), size=(299, 299), mode="bilinear", align_corners=False) - 1 for u8 in (inception.rgb_images(rng, 24, 48), inception.read_idx_images(inception.MNIST_TEST, 9000, 24))])
    inception.randomise(net, [calibration])
    stored = np.fromfile(os.path.join(INCEPTION_DIR, "features-rgb64.f32"), dtype="<f4").reshape(-1, net.feature_size)
    rgb = np.fromfile(os.path.join(INCEPTION_DIR, "rgb64.u8"), dtype=np.uint8).reshape(-1, 64, 64, 3)
    assert np.allclose(inception.features(net, rgb), stored, rtol=1e-6, atol=1e-7), "the rebuilt network must be the fixture's"
    wrapped = inception.ReducedInception(resize_input=True, normalize_input=True)
    wrapped.load_state_dict(net.state_dict())
    return wrapped.eval()


def write_folders(rng):
    """a/ and b/ (see the module comment); returns each folder's image files in aekit's reading order."""
    for name in ("a", "b"):
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
    a_files = []
    fields = inception.rgb_images(rng, 2 * A_PER_SET, 24)
    for i, u8 in enumerate(fields):
        folder = "set1" if i < A_PER_SET else os.path.join("set2", "deep")
        os.makedirs(os.path.join(OUT, "a", folder), exist_ok=True)
        rel = os.path.join(folder, f"field-{i:03d}.png")
        Image.fromarray(u8, "RGB").save(os.path.join(OUT, "a", rel))
        a_files.append(rel)
    with open(os.path.join(OUT, "a", "notes.txt"), "w") as f:
        f.write("not an image: aekit skips it and says so\n")

    b_files = []
    digits = inception.read_idx_images(inception.MNIST_TEST, 1000, B_DIGITS)
    for i, u8 in enumerate(digits):
        rel = f"digit-{i:03d}.png"
        Image.fromarray(u8[:, :, 0], "L").save(os.path.join(OUT, "b", rel))
        b_files.append(rel)
    rects = inception.rgb_images(rng, B_FIELDS, 28)[:, :20, :, :]
    for i, u8 in enumerate(rects):
        rel = f"field-{i:03d}.png"
        if i < B_TRANSPARENT:
            alpha = rng.integers(0, 256, size=u8.shape[:2], dtype=np.uint8)
            Image.fromarray(np.dstack([u8, alpha]), "RGBA").save(os.path.join(OUT, "b", rel))
        else:
            Image.fromarray(np.ascontiguousarray(u8), "RGB").save(os.path.join(OUT, "b", rel))
        b_files.append(rel)
    with open(os.path.join(OUT, "b", "readme.txt"), "w") as f:
        f.write("not an image\n")
    Image.fromarray(digits[0][:, :, 0], "L").save(os.path.join(OUT, "b", ".hidden.png"))
    return a_files, b_files


def pytorch_fid_activations(model, folder, files):
    """pytorch-fid's get_activations on `files`, consecutive images of one size run as one batch."""
    to_tensor = TF.ToTensor()
    images = [to_tensor(Image.open(os.path.join(folder, f)).convert("RGB")) for f in files]
    out = []
    start = 0
    while start < len(images):
        end = start
        while end < len(images) and images[end].shape == images[start].shape:
            end += 1
        with torch.no_grad():
            out.append(model(torch.stack(images[start:end])).numpy())
        start = end
    # pytorch-fid's pred_arr is float64, filled from the float32 predictions.
    return np.concatenate(out).astype(np.float64)


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component {}".format(np.max(np.abs(covmean.imag))))
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def npz_flavours(rng):
    """numpy's ways of writing arrays that aekit's reader must take (or refuse clearly)."""
    folder = os.path.join(OUT, "npz")
    os.makedirs(folder, exist_ok=True)
    mu = np.array([0.5, -1.25, 2.0])
    m = rng.normal(size=(3, 3))
    sigma = m @ m.T + np.eye(3)
    matrix = np.arange(6, dtype=np.float64).reshape(2, 3) / 4
    np.savez_compressed(os.path.join(folder, "compressed-f8.npz"), mu=mu, sigma=sigma)
    np.savez(os.path.join(folder, "stored-f4.npz"), mu=mu.astype("<f4"), sigma=sigma.astype("<f4"))
    np.savez(os.path.join(folder, "fortran.npz"), x=np.asfortranarray(matrix))
    np.savez(os.path.join(folder, "big-endian.npz"), x=matrix.astype(">f8"))
    np.savez(os.path.join(folder, "half.npz"), x=matrix.astype("<f2"))
    np.savez(os.path.join(folder, "ints.npz"), x=np.arange(4))
    np.savez(os.path.join(folder, "other-keys.npz"), mean=mu, cov=sigma)
    return {
        "mu": mu.tolist(),
        "sigma": sigma.tolist(),
        "sigmaFloat32": sigma.astype("<f4").astype(np.float64).tolist(),
        "matrix": matrix.tolist(),
        "files": {
            "compressed-f8.npz": "np.savez_compressed(mu=mu, sigma=sigma) (pytorch-fid's --save-stats)",
            "stored-f4.npz": "np.savez(mu, sigma as float32)",
            "fortran.npz": "np.savez(x=np.asfortranarray(matrix))",
            "big-endian.npz": "np.savez(x=matrix.astype('>f8'))",
            "half.npz": "np.savez(x=matrix.astype('<f2'))",
            "ints.npz": "np.savez(x=np.arange(4)) (int64: refused)",
            "other-keys.npz": "np.savez(mean=mu, cov=sigma) (no mu/sigma: refused)",
        },
    }


def numpy_view_of_aekit_npz(b_stats, fid_ab):
    """Let aekit write a/'s statistics, then read them as numpy and pytorch-fid do."""
    out = os.path.join(OUT, "a-aekit.npz")
    program = (
        "import { saveStats } from './src/eval/fid-folders';"
        f"saveStats('fixtures/fid/a', 'fixtures/fid/a-aekit.npz', {{ features: 'fixtures/metrics/inception/reduced-inception.onnx', kid: true, force: true }})"
        ".catch((e) => { console.error(e); process.exit(1); });"
    )
    subprocess.run(["npx", "tsx", "-e", program], cwd=ROOT, check=True)
    with np.load(out) as f:
        files = list(f.files)
        arrays = {k: {"dtype": str(f[k].dtype), "shape": list(f[k].shape), "fortranOrder": bool(np.isfortran(f[k]))} for k in files if not k.endswith(".json")}
        provenance = json.loads(f["aekit.json"])
        mu, sigma = f["mu"][:], f["sigma"][:]
        features = f["features"][:]
    # Paths in the provenance are absolute (where the fixture was made); the test reads the rest.
    fid = calculate_frechet_distance(mu, sigma, *b_stats)
    return {
        "command": "saveStats('fixtures/fid/a', 'fixtures/fid/a-aekit.npz', { features: reduced-inception.onnx, kid: true })",
        "files": files,
        "arrays": arrays,
        "provenance": {"format": provenance["format"], "version": provenance["version"], "count": provenance["count"], "features": provenance["features"], "featureSize": provenance["network"]["featureSize"]},
        "statsMatchFeatures": bool(np.allclose(np.cov(features.astype(np.float64), rowvar=False), sigma, rtol=1e-9, atol=1e-12) and np.allclose(features.astype(np.float64).mean(axis=0), mu, rtol=1e-9, atol=1e-12)),
        "fidVsPytorchB": fid,
        "relativeToReference": abs(fid - fid_ab) / fid_ab,
    }


def main():
    model = rebuild_network()
    rng = np.random.default_rng(SEED)
    a_files, b_files = write_folders(rng)
    stats = {}
    for name, files in (("a", a_files), ("b", b_files)):
        act = pytorch_fid_activations(model, os.path.join(OUT, name), files)
        mu, sigma = np.mean(act, axis=0), np.cov(act, rowvar=False)
        np.savez_compressed(os.path.join(OUT, f"{name}-pytorch-fid.npz"), mu=mu, sigma=sigma)
        stats[name] = (mu, sigma, len(files))
    fid_ab = calculate_frechet_distance(stats["a"][0], stats["a"][1], stats["b"][0], stats["b"][1])

    reference = {
        "generatedBy": "/usr/bin/python3 scripts/make-fid-fixtures.py",
        "seed": SEED,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "network": "fixtures/metrics/inception/reduced-inception.onnx (128 features; pytorch-fid's InceptionV3, channels / 16, seeded weights)",
        "pipeline": "PIL Image.open(f).convert('RGB') -> ToTensor() -> F.interpolate(299x299, bilinear, align_corners=False) -> 2x - 1 -> pool3; np.mean, np.cov(rowvar=False); pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm)",
        "a": {"folder": "a", "count": stats["a"][2], "skipped": 1, "statistics": "a-pytorch-fid.npz"},
        "b": {"folder": "b", "count": stats["b"][2], "skipped": 1, "statistics": "b-pytorch-fid.npz", "transparent": B_TRANSPARENT},
        "featureSize": int(stats["a"][0].shape[0]),
        "fid": fid_ab,
        "npz": npz_flavours(np.random.default_rng(SEED + 1)),
    }
    reference["aekitNpzInNumpy"] = numpy_view_of_aekit_npz(stats["b"][:2], fid_ab)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    print(f"wrote {OUT}: FID(a, b) = {fid_ab}; aekit's a-aekit.npz in numpy: {reference['aekitNpzInNumpy']['relativeToReference']:.2e} relative")


if __name__ == "__main__":
    sys.exit(main())
