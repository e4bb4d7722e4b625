import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { AekitError } from '../../src/core/errors';
import { NpzArchive, decodeNpy, encodeNpy, encodeNpz, isZip } from '../../src/core/npz';

const NPZ_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'fid', 'npz');
const reference = JSON.parse(readFileSync(path.resolve(NPZ_DIR, '..', 'reference.json'), 'utf8')) as {
  npz: { mu: number[]; sigma: number[][]; sigmaFloat32: number[][]; matrix: number[][] };
};

function open(name: string): NpzArchive {
  return NpzArchive.open(readFileSync(path.join(NPZ_DIR, name)), name);
}

function rejects(work: () => unknown, code: string, pattern: RegExp, where?: RegExp): void {
  assert.throws(work, (e: AekitError) => {
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    if (where) assert.match(e.where ?? '', where);
    return true;
  });
}

describe('npz: numpy arrays read and written natively (scripts/make-fid-fixtures.py wrote the numpy files)', () => {
  const { mu, sigma, sigmaFloat32, matrix } = reference.npz;

  it("reads pytorch-fid's np.savez_compressed (deflated members) exactly, float64", () => {
    const archive = open('compressed-f8.npz');
    assert.deepEqual(archive.arrayNames.sort(), ['mu', 'sigma']);
    const m = archive.array('mu');
    const s = archive.array('sigma');
    assert.ok(m.data instanceof Float64Array && s.data instanceof Float64Array);
    assert.deepEqual(m.shape, [3]);
    assert.deepEqual(s.shape, [3, 3]);
    assert.deepEqual(Array.from(m.data), mu);
    assert.deepEqual(Array.from(s.data), sigma.flat());
  });

  it('reads float32, float16, big-endian and Fortran-order arrays with the values numpy holds', () => {
    const s = open('stored-f4.npz').array('sigma');
    assert.ok(s.data instanceof Float32Array);
    assert.deepEqual(Array.from(s.data), sigmaFloat32.flat());
    for (const file of ['fortran.npz', 'big-endian.npz', 'half.npz']) {
      const x = open(file).array('x');
      assert.deepEqual(x.shape, [2, 3], file);
      assert.deepEqual(Array.from(x.data), matrix.flat(), `${file}: C order, numpy's values`);
    }
  });

  it('refuses what it cannot read, naming the file, the member and what it found', () => {
    rejects(() => open('ints.npz').array('x'), 'BAD_DATA', /expected a floating-point array .* found dtype '<i8'/, /^ints\.npz: x\.npy$/);
    rejects(() => open('other-keys.npz').array('mu'), 'BAD_DATA', /expected an array 'mu', found 'mean', 'cov'/, /^other-keys\.npz$/);
    rejects(() => NpzArchive.open(new TextEncoder().encode('mu,sigma\n1,2\n'), 'stats.csv'), 'BAD_DATA', /expected a numpy \.npz file \(a zip archive\), found other data/, /^stats\.csv$/);
    const truncated = readFileSync(path.join(NPZ_DIR, 'compressed-f8.npz')).subarray(0, 200);
    rejects(() => NpzArchive.open(truncated, 'cut.npz'), 'BAD_DATA', /cannot read the \.npz \(zip\) archive/, /^cut\.npz$/);
    const bad = zipSync({ 'x.npy': new TextEncoder().encode('not an array') });
    rejects(() => NpzArchive.open(bad, 'bad.npz').array('x'), 'BAD_DATA', /expected a numpy \.npy array/, /^bad\.npz: x\.npy$/);
    const full = encodeNpy({ shape: [4], data: new Float64Array(4) });
    rejects(() => decodeNpy(full.subarray(0, full.length - 24), 'short.npy'), 'BAD_DATA', /expected 4 values of 8 bytes for shape \(4,\), found 8 bytes of data/, /^short\.npy$/);
    rejects(() => decodeNpy(full.subarray(0, 100), 'cut.npy'), 'BAD_DATA', /the \.npy header claims 118 bytes, but the file has 100/);
  });

  it("writes numpy's format: its header spelling, 64-byte alignment, values back exactly; other members kept", () => {
    const values = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3 + 1 / 3);
    const bytes = encodeNpy({ shape: [3, 4], data: values });
    const headerLength = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + headerLength) % 64, 0, 'data aligned to 64 bytes, as numpy writes it');
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    assert.match(header, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(3, 4\), \} *\n$/);
    assert.match(new TextDecoder().decode(encodeNpy({ shape: [5], data: new Float32Array(5) }).subarray(10, 128)), /'descr': '<f4', 'fortran_order': False, 'shape': \(5,\), \}/);

    const archive = NpzArchive.open(encodeNpz({ m: { shape: [3, 4], data: values }, s: { shape: [], data: Float32Array.of(2.5) } }, { 'aekit.json': new TextEncoder().encode('{"a":1}') }), 'x.npz');
    assert.deepEqual(archive.arrayNames.sort(), ['m', 's']);
    assert.deepEqual(Array.from(archive.array('m').data), Array.from(values));
    assert.deepEqual(archive.array('s'), { shape: [], data: Float32Array.of(2.5) });
    assert.equal(new TextDecoder().decode(archive.other('aekit.json')), '{"a":1}');
    assert.ok(isZip(encodeNpz({})) && !isZip(bytes));
    rejects(() => encodeNpy({ shape: [2, 2], data: new Float64Array(3) }), 'BAD_ARGUMENT', /expected 4 values for shape \(2, 2\), found 3/);
  });
});
