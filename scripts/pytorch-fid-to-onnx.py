"""Convert pytorch-fid's InceptionV3 (the FID network of pytorch-fid, torchmetrics and clean-fid) to
an ONNX feature network that `aekit eval --fid --features inception.onnx` reads without further flags.

The file holds the network from the 299x299 input to pool3 (2048 features). pytorch-fid's own
preprocessing (bilinear resize to 299x299 with align_corners=False, then x -> 2x - 1) is not in the
graph: it is declared in the file's aekit metadata (`aekit.features`), and aekit applies it, exactly
as pytorch-fid does, to images of any size. Grayscale images are replicated to three channels, as
pytorch-fid's `Image.convert('RGB')` does.

Needs Python with torch and pytorch-fid (`pip install pytorch-fid`) and the FID weights: either
pytorch-fid downloads them on first use, or pass the file you already have with --weights
(pt_inception-2015-12-05-6726825d.pth from pytorch-fid's GitHub releases). Python is used for this
one-off conversion only; aekit itself never runs it.

  python3 scripts/pytorch-fid-to-onnx.py --out inception.onnx
  python3 scripts/pytorch-fid-to-onnx.py --weights pt_inception-2015-12-05-6726825d.pth --out inception.onnx

The functions below are also used by scripts/make-inception-fixture.py, which exports a reduced,
randomly initialised Inception the same way for aekit's tests.
"""
import argparse
import datetime
import hashlib
import json

import torch

# What aekit's metadata says about the file; see src/artifact/metadata.ts (FeatureExtraction).
AEKIT_VERSION = "0.1.0"
INPUT_NAME = "image"
OUTPUT_NAME = "pool3"
INCEPTION_SIZE = 299
# ONNX opset of the export: onnxruntime 1.30 (aekit's runtime) and torch >= 1.13 both support it.
OPSET = 17


def aekit_metadata(*, family, dataset, run_id, channels, size, feature_size, features, extra=None):
    """The `aekit.*` metadata_props entries (JSON values) of a feature network artifact."""
    height, width = size
    fields = {
        "aekitVersion": AEKIT_VERSION,
        "family": family,
        "part": "feature-extractor",
        "inputs": [{"name": INPUT_NAME, "shape": ["batch", channels, height, width], "layout": "NCHW", "dtype": "float32"}],
        "outputs": [{"name": features["output"], "shape": ["batch", feature_size], "layout": "NC", "dtype": "float32"}],
        "imageShape": {"channels": channels, "height": height, "width": width},
        "valueRange": "symmetric" if features["range"] == "symmetric" else "unit",
        "outputActivation": "linear",
        "features": features,
        "dataset": dataset,
        "runId": run_id,
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if extra:
        fields["extra"] = extra
    return {f"aekit.{key}": json.dumps(value) for key, value in fields.items()}


def export_onnx(module, out, *, channels, size, output_name=OUTPUT_NAME, dynamic_size=False, metadata=None):
    """Export `module` (NCHW float32 images -> [batch, d] features) to `out`; add metadata_props when given."""
    import onnx

    module.eval()
    height, width = size
    example = torch.zeros(2, channels, height, width)
    axes = {INPUT_NAME: {0: "batch"}, output_name: {0: "batch"}}
    if dynamic_size:
        axes[INPUT_NAME].update({2: "height", 3: "width"})
    torch.onnx.export(module, example, out, input_names=[INPUT_NAME], output_names=[output_name], dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    if metadata:
        model = onnx.load(out)
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, out)


class Pool3(torch.nn.Module):
    """pytorch-fid's InceptionV3 up to pool3 as one [batch, 2048] output (its forward returns a list of [batch, 2048, 1, 1])."""

    def __init__(self, inception):
        super().__init__()
        self.inception = inception

    def forward(self, x):
        return self.inception(x)[0].flatten(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the ONNX file to write")
    parser.add_argument("--weights", help="pt_inception-2015-12-05-6726825d.pth (default: pytorch-fid downloads it)")
    args = parser.parse_args()

    import pytorch_fid.inception as fid_inception

    sha256 = None
    if args.weights:
        with open(args.weights, "rb") as f:
            sha256 = hashlib.sha256(f.read()).hexdigest()
        # fid_inception_v3() loads its weights through this function; hand it the local file instead.
        fid_inception.load_state_dict_from_url = lambda *_, **__: torch.load(args.weights, map_location="cpu")
    # resize_input/normalize_input off: aekit resizes and scales as declared in the metadata below.
    inception = fid_inception.InceptionV3([fid_inception.InceptionV3.DEFAULT_BLOCK_INDEX], resize_input=False, normalize_input=False)
    features = {"output": OUTPUT_NAME, "input": INPUT_NAME, "size": {"height": INCEPTION_SIZE, "width": INCEPTION_SIZE}, "resize": "bilinear", "range": "symmetric", "grayToRgb": True}
    extra = {"source": "pytorch-fid InceptionV3 (FID weights pt_inception-2015-12-05)", "preprocess": "bilinear resize to 299x299 (align_corners=False), x -> 2x - 1"}
    if sha256:
        extra["weightsSha256"] = sha256
    metadata = aekit_metadata(family="inception-v3", dataset="imagenet", run_id="pytorch-fid", channels=3, size=(INCEPTION_SIZE, INCEPTION_SIZE), feature_size=2048, features=features, extra=extra)
    export_onnx(Pool3(inception), args.out, channels=3, size=(INCEPTION_SIZE, INCEPTION_SIZE), metadata=metadata)
    print(f"wrote {args.out}: 2048 pool3 features of 299x299 RGB images in [-1, 1]; aekit resizes and scales to that")


if __name__ == "__main__":
    main()
