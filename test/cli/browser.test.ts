/**
 * `aekit browser` as a user runs it (the built CLI): which Chromium, where SwiftShader is, the
 * environment lines for onnxruntime-node's WebGPU provider, the WebGPU check, and a bad
 * AEKIT_CHROMIUM as one line. Needs `npm run build` first.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './cli-helpers';

describe('cli: aekit browser', function () {
  this.timeout(120_000);

  it('names the Chromium it uses and the SwiftShader driver, and prints the Vulkan environment', async () => {
    const shown = await runCli(['browser']);
    assert.equal(shown.code, 0, shown.stderr);
    const [chromium, swiftshader] = shown.stdout.trim().split('\n');
    assert.match(chromium, /^chromium: (Chromium|Google Chrome) [\d.]+(, bundled with @sparticuz\/chromium [\d.]+.* \(.+\)| \(system: .+\)| \(AEKIT_CHROMIUM=.+\))$/);
    const icd = /^swiftshader: (\S+vk_swiftshader_icd\.json)$/.exec(swiftshader)?.[1];
    assert.ok(icd && existsSync(icd), swiftshader);

    const env = await runCli(['browser', '--vulkan-env']);
    assert.equal(env.code, 0, env.stderr);
    assert.deepEqual(env.stdout.split('\n'), [`LD_LIBRARY_PATH=${path.dirname(icd)}${process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : ''}`, `VK_ICD_FILENAMES=${icd}`, '']);
    assert.ok(existsSync(path.join(path.dirname(icd), 'libvulkan.so.1')), 'the Vulkan loader is in the folder LD_LIBRARY_PATH names');
  });

  it('--check launches it and reports the WebGPU adapter', async () => {
    const { code, stdout, stderr } = await runCli(['browser', '--check']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\nwebgpu: .+\n$/);
  });

  it('a bad AEKIT_CHROMIUM is one line naming it, exit 1', async () => {
    const { code, stdout, stderr } = await runCli(['browser'], { env: { AEKIT_CHROMIUM: '/no/such/chrome' } });
    assert.equal(code, 1, stdout);
    assert.equal(stderr, 'aekit: AEKIT_CHROMIUM=/no/such/chrome: expected an executable Chromium, found no executable file there\n');
  });
});
