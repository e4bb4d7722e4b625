#!/usr/bin/python3
"""Regenerates fixtures/onnx/foreign/: small ONNX models that aekit did not write, for `aekit bench`.

Run with Debian's Python (python3-torch, python3-onnx): `/usr/bin/python3 scripts/make-foreign-onnx.py`.
Weights come from a fixed seed, so a rerun reproduces the committed files; never edit them by hand.
Each model carries what the benchmark must handle in files from other tools:

- torch-conv-fixed.onnx: a PyTorch conv net exported at [1, 3, 32, 32] without dynamic axes, so its
  batch is fixed at 1 (`aekit bench --batch 16` used to report it as batch 16).
- torch-tokens-int64.onnx: PyTorch, int64 token ids and a bool mask, batch axis named `N`; an
  embedding lookup (Gather: ids must stay below 100), MatMul, and an ArgMax the FLOP counter does
  not size (int64 output).
- torch-uint8-image.onnx: PyTorch, uint8 pixels [batch_size, 3, 16, 16] scaled in the graph.
- onnx-fp16-seq.onnx: built with onnx.helper: float16 input [batch_size, seq, 4] with a second
  symbolic dim `seq`, int32 positions into a float16 table, and an Einsum the FLOP counter does not
  size (so its FLOPs are unknown).
- single_relu.onnx and two_transposes.onnx: copied from the onnx package's own examples
  (python3-onnx, onnx/examples/resources; Apache-2.0): fixed shapes [1, 2] and [2, 3, 4], IR 3.
"""
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

SEED = 20261201
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx', 'foreign')
ONNX_EXAMPLES = os.path.join(os.path.dirname(onnx.__file__), 'examples', 'resources')
OPSET = 13


class Tokens(torch.nn.Module):
    """Embedding (100 tokens, 16 wide) masked by a bool mask, a linear head, and the argmax class."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(100, 16)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, ids, mask):
        logits = self.head(self.embed(ids) * mask.unsqueeze(-1).float())
        return logits, logits.argmax(-1)


class Uint8Image(torch.nn.Module):
    """Pixels as bytes, scaled to [0, 1] inside the graph, then a conv and a linear head."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.head = torch.nn.Linear(4 * 8 * 8, 10)

    def forward(self, pixels):
        x = torch.relu(self.conv(pixels.float() / 255.0))
        return self.head(torch.flatten(x, 1))


def export_torch():
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3, stride=2, padding=1)).eval()
    torch.onnx.export(conv, torch.zeros(1, 3, 32, 32), os.path.join(OUT, 'torch-conv-fixed.onnx'), input_names=['x'], output_names=['y'], opset_version=OPSET)

    ids = torch.zeros(2, 8, dtype=torch.int64)
    mask = torch.ones(2, 8, dtype=torch.bool)
    torch.onnx.export(
        Tokens().eval(), (ids, mask), os.path.join(OUT, 'torch-tokens-int64.onnx'),
        input_names=['ids', 'mask'], output_names=['logits', 'pred'], opset_version=OPSET,
        dynamic_axes={'ids': {0: 'N'}, 'mask': {0: 'N'}, 'logits': {0: 'N'}, 'pred': {0: 'N'}},
    )

    pixels = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    torch.onnx.export(
        Uint8Image().eval(), pixels, os.path.join(OUT, 'torch-uint8-image.onnx'),
        input_names=['pixels'], output_names=['scores'], opset_version=OPSET,
        dynamic_axes={'pixels': {0: 'batch_size'}, 'scores': {0: 'batch_size'}},
    )


def build_fp16():
    rng = np.random.default_rng(SEED)
    table = numpy_helper.from_array(rng.standard_normal((16, 3)).astype(np.float16), 'pos_table')
    weight = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), 'w')
    nodes = [
        helper.make_node('Cast', ['x'], ['x32'], to=TensorProto.FLOAT),
        helper.make_node('Einsum', ['x32', 'w'], ['proj'], equation='bsi,ij->bsj'),
        helper.make_node('Gather', ['pos_table', 'pos'], ['pos16'], axis=0),
        helper.make_node('Cast', ['pos16'], ['pos32'], to=TensorProto.FLOAT),
        helper.make_node('Add', ['proj', 'pos32'], ['sum']),
        helper.make_node('Cast', ['sum'], ['y'], to=TensorProto.FLOAT16),
    ]
    graph = helper.make_graph(
        nodes, 'fp16_seq',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT16, ['batch_size', 'seq', 4]), helper.make_tensor_value_info('pos', TensorProto.INT32, ['batch_size', 'seq'])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT16, ['batch_size', 'seq', 3])],
        initializer=[table, weight],
    )
    model = helper.make_model(graph, producer_name='aekit scripts/make-foreign-onnx.py (onnx.helper)', opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, 'onnx-fp16-seq.onnx'))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    export_torch()
    build_fp16()
    for name in ('single_relu.onnx', 'two_transposes.onnx'):
        shutil.copyfile(os.path.join(ONNX_EXAMPLES, name), os.path.join(OUT, name))
    for name in sorted(os.listdir(OUT)):
        print(f'{name}: {os.path.getsize(os.path.join(OUT, name))} bytes')


if __name__ == '__main__':
    main()
