/**
 * Adam on the host, for the engine on onnxruntime-node's CPU provider: the graph outputs only the
 * gradients, and one WebAssembly SIMD loop updates each parameter and its two moments in place.
 *
 * Why not in the graph (./adam.ts, which the other runtimes use): onnxruntime's inference build has
 * no optimizer kernels, so Adam there is ~13 elementwise operators per tensor, each a pass over
 * memory with a fresh output, and onnxruntime-node then copies every updated tensor (parameter and
 * both moments) into a new ArrayBuffer. For the MLP VAE (650k parameters) that was 2.4 ms of a
 * 4.6 ms step plus ~1 ms of garbage collection; this loop takes 0.3 ms, plain JS 2.6 ms
 * (docs/benchmarks.md, "Training").
 *
 * Memory: one WebAssembly.Memory, sized once, holds every parameter, moment and gradient buffer
 * (16-byte aligned); onnxruntime reads parameters from it and writes gradients into it directly.
 * It never grows, so the Float32Array views stay valid.
 */
import type { AdamSettings } from '../../optim';

/** One tensor's region of the arena. */
export interface ArenaSlice {
  /** Byte offset in the arena. */
  offset: number;
  /** Elements. */
  length: number;
  view: Float32Array;
}

/** wasm module: `adam(p, m, v, g, n4, b1, b2, a1, a2, lrOverC1, invC2, eps)` over n4 groups of 4 floats. */
function adamModuleBytes(): Uint8Array<ArrayBuffer> {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
  const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));
  const T = { i32: 0x7f, f32: 0x7d, v128: 0x7b };
  // SIMD opcodes (0xfd prefix, LEB128 sub-opcode) from the WebAssembly SIMD spec.
  const OP = { load: 0x00, store: 0x0b, splat: 0x13, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7 };
  const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
  const MEMARG = [4, 0]; // 16-byte alignment, offset 0
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const I32_ADD = 0x6a;
  // Parameters 0-3 pointers, 4 n4 (i32), 5-11 the scalars (f32); locals 12 i, 13-19 splats, 20 g, 21 m', 22 v' (v128), 23 byte offset.
  const params = [T.i32, T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32];
  const [P, M, V, G, N4, I, OFF] = [0, 1, 2, 3, 4, 12, 23];
  const [B1, B2, A1, A2, LR, IC, EPS, GV, MV, VV] = [13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
  const at = (base: number) => [...get(base), ...get(OFF), I32_ADD];
  const body: number[] = [];
  for (let k = 0; k < 7; k++) body.push(...get(5 + k), ...simd(OP.splat), ...set(B1 + k));
  body.push(0x41, 0, ...set(OFF), 0x41, 0, ...set(I));
  body.push(0x02, 0x40, 0x03, 0x40); // block { loop {
  body.push(...get(I), ...get(N4), 0x4f, 0x0d, 1); // if (i >= n4) break
  body.push(...at(G), ...simd(OP.load, ...MEMARG), ...set(GV));
  // m' = m * b1 + g * a1
  body.push(...at(M), ...simd(OP.load, ...MEMARG), ...get(B1), ...simd(OP.mul), ...get(GV), ...get(A1), ...simd(OP.mul), ...simd(OP.add), ...set(MV));
  body.push(...at(M), ...get(MV), ...simd(OP.store, ...MEMARG));
  // v' = v * b2 + g * g * a2
  body.push(...at(V), ...simd(OP.load, ...MEMARG), ...get(B2), ...simd(OP.mul), ...get(GV), ...get(GV), ...simd(OP.mul), ...get(A2), ...simd(OP.mul), ...simd(OP.add), ...set(VV));
  body.push(...at(V), ...get(VV), ...simd(OP.store, ...MEMARG));
  // p' = p - (m' * lrOverC1) / (sqrt(v' * invC2) + eps)
  body.push(...at(P), ...at(P), ...simd(OP.load, ...MEMARG));
  body.push(...get(MV), ...get(LR), ...simd(OP.mul), ...get(VV), ...get(IC), ...simd(OP.mul), ...simd(OP.sqrt), ...get(EPS), ...simd(OP.add), ...simd(OP.div), ...simd(OP.sub));
  body.push(...simd(OP.store, ...MEMARG));
  body.push(...get(OFF), 0x41, 16, I32_ADD, ...set(OFF), ...get(I), 0x41, 1, I32_ADD, ...set(I), 0x0c, 0); // next; continue
  body.push(0x0b, 0x0b, 0x0b); // } } end
  const code = [...vec([[1, T.i32], [10, T.v128], [1, T.i32]]), ...body];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec([[0x60, ...vec(params.map((p) => [p])), 0]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('adam'), 0x00, 0]])),
    ...section(10, vec([[...leb(code.length), ...code]])),
  ]);
}

const WASM_PAGE = 65536;
/** Floats per SIMD lane group: slices are padded to it so the loop needs no scalar tail. */
const LANES = 4;

/**
 * The arena and the compiled loop. Allocate every slice first (`slice`), then `seal()` once;
 * `update` is then one Adam step of one tensor.
 */
export class HostAdam {
  private readonly pending: { length: number; init?: Float32Array; resolve: (s: ArenaSlice) => void }[] = [];
  private bytes = 0;
  private memory?: WebAssembly.Memory;
  private adam?: (...args: number[]) => void;

  constructor(private readonly settings: AdamSettings) {}

  /** Reserve a zero-filled (or `init`-filled) slice of `length` floats; its view exists after {@link seal}. */
  slice(length: number, init?: Float32Array): ArenaSlice {
    const offset = this.bytes;
    this.bytes += Math.ceil(length / LANES) * LANES * 4;
    const slice = { offset, length, view: new Float32Array(0) };
    this.pending.push({ length, init, resolve: (s) => Object.assign(slice, s) });
    return slice;
  }

  /** Create the memory and the loop; slices get their views. */
  seal(): void {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(this.bytes / WASM_PAGE)) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(adamModuleBytes()), { env: { memory } });
    this.memory = memory;
    this.adam = instance.exports.adam as (...args: number[]) => void;
    let offset = 0;
    for (const p of this.pending) {
      const view = new Float32Array(memory.buffer, offset, p.length);
      if (p.init) view.set(p.init);
      p.resolve({ offset, length: p.length, view });
      offset += Math.ceil(p.length / LANES) * LANES * 4;
    }
    this.pending.length = 0;
  }

  /**
   * One Adam step (src/train/optim.ts's rule) of `param` with gradient `grad` times `scale` (the
   * clipping factor), at bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t.
   */
  update(param: ArenaSlice, m: ArenaSlice, v: ArenaSlice, grad: ArenaSlice, learningRate: number, step: number, scale: number): void {
    const { beta1, beta2, epsilon } = this.settings;
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    const a1 = (1 - beta1) * scale;
    const a2 = (1 - beta2) * scale * scale;
    this.adam!(param.offset, m.offset, v.offset, grad.offset, Math.ceil(param.length / LANES), beta1, beta2, a1, a2, learningRate / c1, 1 / c2, epsilon);
  }

  /** Bytes of the arena (for the log). */
  get size(): number {
    return this.memory?.buffer.byteLength ?? this.bytes;
  }
}
