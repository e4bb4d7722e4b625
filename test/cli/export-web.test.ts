/**
 * `aekit export --web`, as a user runs it (the built CLI): a run or a folder of artifacts becomes
 * a static demo folder whose size is printed, and flags that do not fit are refused with the flag
 * named.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { webArtifacts, webTempDir } from '../serve/web-helpers';
import type { WebArtifacts } from '../serve/web-helpers';
import { runCli } from './cli-helpers';

describe('cli: aekit export --web', function () {
  this.timeout(240_000);
  let artifacts: WebArtifacts;
  before(async () => {
    artifacts = await webArtifacts();
  });

  it('exports a run to a static demo folder and prints its size and how to serve it', async () => {
    const site = path.join(webTempDir('cli'), 'site');
    const { code, stdout, stderr } = await runCli(['export', artifacts.runs.vae2, '--web', site]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^exported vae from .*checkpoints/m);
    assert.match(stdout, new RegExp(`decoder: ${site.replace(/[/\\.]/g, '\\$&')}/models/vae2/decoder\\.onnx`));
    assert.match(stdout, /wrote the static demo of vae2 to .*site: 11 files, \d+\.\d MB \(onnxruntime-web \d+\.\d MB, models \d+\.\d [kM]B, page \d+\.\d [kM]B\)/);
    assert.match(stdout, /npx http-server .*site/);
    assert.ok(existsSync(path.join(site, 'index.html')) && existsSync(path.join(site, 'models', 'vae2', 'encoder.onnx')));
  });

  it('takes a folder of exported artifacts, keeps the exported files with --out, and adds the service worker with --coi', async () => {
    const dir = webTempDir('cli-artifacts');
    const fromArtifacts = await runCli(['export', artifacts.root, '--web', path.join(dir, 'all'), '--coi', '--title', 'All the test models']);
    assert.equal(fromArtifacts.code, 0, fromArtifacts.stderr);
    assert.match(fromArtifacts.stdout, /wrote the static demo of ae, cvae, joint, vae, vae2 to /);
    assert.ok(readdirSync(path.join(dir, 'all')).includes('coi-serviceworker.js'));

    const kept = await runCli(['export', artifacts.runs.joint, '--out', path.join(dir, 'onnx'), '--web', path.join(dir, 'joint'), '--no-verify']);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(readdirSync(path.join(dir, 'onnx')).sort(), ['decoder.onnx', 'encoder.onnx']);
  });

  it('refuses flags that do not go with --web, a busy folder, and a missing --out, naming them', async () => {
    const dir = webTempDir('cli-errors');
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const cases: [string[], RegExp][] = [
      [['export', artifacts.runs.vae2, '--coi', '--out', path.join(dir, 'x')], /^aekit: --coi: only goes with --web <dir>/],
      [['export', artifacts.runs.vae2, '--web', path.join(dir, 'y'), '--part', 'decoder'], /^aekit: --part decoder: cannot be combined with --web/],
      [['export', artifacts.runs.vae2, '--web', path.join(dir, 'y'), '--triton', path.join(dir, 't')], /^aekit: --triton: cannot be combined with --web/],
      [['export', artifacts.runs.vae2, '--part', 'train-step'], /^aekit: -o, --out <dir>: required with --part train-step/],
      [['export', artifacts.runs.vae2, '--web', dir], /^aekit: .*cli-errors-\w+: the folder is not empty; use --force to replace it/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(args);
      assert.equal(code, 1, `${args.join(' ')} -> ${stderr}`);
      assert.match(stderr, message, args.join(' '));
    }
    assert.deepEqual(readdirSync(dir), ['notes.txt'], 'nothing written');
  });
});
