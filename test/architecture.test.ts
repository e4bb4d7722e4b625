/**
 * The architecture rules of docs/architecture.md, checked on every `npm test`: the import graph
 * (no circles, no stage importing a higher one, pure browser code, one file per onnxruntime
 * package; the rules are .dependency-cruiser.cjs) and the size of source files.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

/** Most lines a source file should have: past this, a file is doing more than one thing. */
const MAX_LINES = 400;

/** Files allowed past {@link MAX_LINES}, each with why: tables that read best in one place. */
const LONG_FILES: Readonly<Record<string, string>> = Object.freeze({
  'src/export/layers.ts': 'the converter table: one entry per tfjs layer class, each a few lines of ONNX nodes',
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

describe('architecture', function () {
  this.timeout(120_000);

  it('keeps the import rules of .dependency-cruiser.cjs (layers, no circles, pure browser code, one onnxruntime file each)', async () => {
    const bin = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
    const result = await promisify(execFile)(bin, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: ROOT }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /no dependency violations found/);
  });

  it(`keeps source files under ${MAX_LINES} lines, converter tables aside`, () => {
    const long = sourceFiles(path.join(ROOT, 'src'))
      .map((file) => ({ file: path.relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ file, lines }) => lines > MAX_LINES && !(file in LONG_FILES));
    assert.deepEqual(long, [], `files over ${MAX_LINES} lines: ${long.map((l) => `${l.file} (${l.lines})`).join(', ')}`);
  });
});
