/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend, which ships without it, so no conv layer (nor
 * Conv2DTranspose, whose filter gradient is the same kernel) can train there.
 *
 * Written by hand because no library provides it. It rewrites the filter gradient as one forward
 * convolution, which the wasm backend runs fast through XNNPACK:
 *
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} xPadded[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]
 *
 * is a stride-1 convolution with dilation (sh, sw) of X' = transpose(xPadded, [3, 1, 2, 0])
 * (batch = ci, channels = n) by F' = transpose(dy, [1, 2, 0, 3]) (an OHxOW filter from n to co),
 * whose first fh x fw output positions, transposed back to [fh, fw, ci, co], are dW.
 *
 * It composes the backend's own kernels (not tf ops) so nothing is recorded on a gradient tape and
 * every intermediate buffer is released here. Checked against the cpu backend in
 * test/core/wasm-conv-filter-grad.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;

let registered = false;

/** Register the kernel once; a no-op when it is already there (e.g. a newer tfjs ships it). */
export function registerWasmConvFilterGradient(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    registered = true;
    return;
  }
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm });
  registered = true;
}

function runKernel(name: string, inputs: Record<string, Info>, backend: tf.KernelBackend, attrs: object): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm backend lacks the '${name}' kernel needed for Conv2DBackpropFilter`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
}

function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const backend = args.backend as tf.KernelBackend;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const convInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const [fh, fw, ci, co] = attrs.filterShape;
  const { top, bottom, left, right } = convInfo.padInfo;
  const temps: Info[] = [];
  const keep = (info: Info) => (temps.push(info), info);
  try {
    const padded =
      top || bottom || left || right
        ? keep(runKernel('PadV2', { x }, backend, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }))
        : x;
    const xT = keep(runKernel('Transpose', { x: padded }, backend, { perm: [3, 1, 2, 0] }));
    const dyT = keep(runKernel('Transpose', { x: dy }, backend, { perm: [1, 2, 0, 3] }));
    const full = keep(
      runKernel('Conv2D', { x: xT, filter: dyT }, backend, {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [convInfo.strideHeight, convInfo.strideWidth],
        dimRoundingMode: undefined,
      }),
    );
    // full: [ci, H', W', co] with H' >= fh (extra rows come from padding that 'same'/floor left unused).
    const needsSlice = full.shape[1] !== fh || full.shape[2] !== fw;
    const sliced = needsSlice
      ? keep(runKernel('Slice', { x: full }, backend, { begin: [0, 0, 0, 0], size: [ci, fh, fw, co] }))
      : full;
    return runKernel('Transpose', { x: sliced }, backend, { perm: [1, 2, 0, 3] });
  } finally {
    for (const info of temps) backend.disposeData(info.dataId);
  }
}
