import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AekitError } from '../../src/core/errors';
import { writeOnnxAtomic } from '../../src/export';

const isCode = (code: string, fragment: string) => (error: unknown) =>
  error instanceof AekitError && error.code === code && error.message.includes(fragment);

describe('export: writeOnnxAtomic', () => {
  let dir: string;
  const bytes = Uint8Array.from([8, 1, 2, 3, 4]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aekit-write-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the file, creating parent folders, and leaves no temporary file', async () => {
    const path = join(dir, 'nested', 'model.onnx');
    await writeOnnxAtomic(path, bytes);
    assert.deepEqual(Uint8Array.from(readFileSync(path)), bytes);
    assert.deepEqual(readdirSync(join(dir, 'nested')), ['model.onnx']);
  });

  it('refuses an existing file without force, keeping it intact', async () => {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, 'previous');
    await assert.rejects(writeOnnxAtomic(path, bytes), isCode('ALREADY_EXISTS', path));
    assert.equal(readFileSync(path, 'utf8'), 'previous');
    assert.deepEqual(readdirSync(dir), ['model.onnx']);
  });

  it('replaces an existing file with force', async () => {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, 'previous');
    await writeOnnxAtomic(path, bytes, { force: true });
    assert.deepEqual(Uint8Array.from(readFileSync(path)), bytes);
    assert.deepEqual(readdirSync(dir), ['model.onnx']);
  });

  it('cleans up its temporary file when the final rename fails', async () => {
    // A directory in the way: rename(file, dir) fails after the data was fully written.
    const path = join(dir, 'model.onnx');
    mkdirSync(path);
    writeFileSync(join(path, 'keep'), 'x');
    await assert.rejects(writeOnnxAtomic(path, bytes, { force: true }), isCode('EXPORT_FAILED', path));
    assert.deepEqual(readdirSync(dir), ['model.onnx']);
    assert.deepEqual(readdirSync(path), ['keep']);
  });

  it('refuses empty bytes', async () => {
    await assert.rejects(writeOnnxAtomic(join(dir, 'empty.onnx'), new Uint8Array(0)), isCode('BAD_ARGUMENT', 'empty'));
    assert.deepEqual(readdirSync(dir), []);
  });
});
