/**
 * Which Chromium aekit drives (AEKIT_CHROMIUM, then a system one on the PATH, then the bundled
 * one), with real browsers: the bundled Chromium of @sparticuz/chromium, reached under each name;
 * and WebGPU in it on a page served from 127.0.0.1 (SwiftShader's adapter without a GPU).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkWebGpu, CHROMIUM_ENV, findChromium, launchChromium } from '../../src/core/browser';
import type { FoundChromium } from '../../src/core/browser';
import { unpackChromiumBundle } from '../../src/core/chromium-bundle';
import type { Logger } from '../../src/core/log';

function recordingLogger(lines: string[]): Logger {
  const push = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { error: push('error'), warn: push('warn'), info: push('info'), debug: push('debug') };
}

describe('core/browser: finding and launching Chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let bundled: string;
  let system: string;
  /** A PATH without any browser, whatever this machine has installed (the probes need nothing on it). */
  let emptyPath: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-browser-test-'));
    emptyPath = path.join(dir, 'empty');
    mkdirSync(emptyPath);
    bundled = (await unpackChromiumBundle()).executablePath;
    // A "system" Chromium: the bundled binary under a folder of its own on the PATH.
    system = path.join(dir, 'system');
    mkdirSync(system);
    symlinkSync(bundled, path.join(system, 'chromium'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the bundled Chromium when there is no AEKIT_CHROMIUM and no system one', async () => {
    const found = await findChromium({ env: { PATH: emptyPath } });
    assert.equal(found.source, 'bundled');
    assert.equal(found.executablePath, bundled);
    assert.match(found.version, /^Chromium \d+\.\d+\.\d+\.\d+$/);
    assert.match(found.description, /^Chromium \d+[.\d]*, bundled with @sparticuz\/chromium \d+\.\d+\.\d+ \(.*\/chromium\)$/);
    assert.ok(found.env.FONTCONFIG_FILE?.endsWith('fonts.conf'));
  });

  it('prefers a system Chromium on the PATH, and passes over one that does not run', async () => {
    const found = await findChromium({ env: { PATH: `${system}:${emptyPath}` } });
    assert.equal(found.source, 'system');
    assert.equal(found.executablePath, path.join(system, 'chromium'));
    assert.match(found.description, /^Chromium [\d.]+ \(system: .*\/system\/chromium\)$/);

    // A stub that fails (as a snap placeholder does) must not hide the bundled browser.
    const broken = path.join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'chromium-browser'), '#!/bin/sh\necho "chromium-browser requires the chromium snap" >&2\nexit 1\n');
    chmodSync(path.join(broken, 'chromium-browser'), 0o755);
    const lines: string[] = [];
    const fallback = await findChromium({ env: { PATH: `${broken}:${emptyPath}` }, logger: recordingLogger(lines) });
    assert.equal(fallback.source, 'bundled');
    assert.deepEqual(lines, [`warn: the system Chromium at ${broken}/chromium-browser does not run (chromium-browser requires the chromium snap); trying the bundled one`]);
  });

  it('runs the bundled Chromium with its own NSS on a machine without libnss3', async function () {
    // The machine's libnss3 is hidden in a mount namespace of the child's own (needs root, as CI has).
    const nss = /libnss3\.so => (\S+)/.exec(execFileSync('ldd', [bundled], { encoding: 'utf8' }))?.[1];
    const hide = nss ? `mount --bind /dev/null ${nss} && ` : '';
    if (nss && spawnSync('unshare', ['-m', 'true']).status !== 0) {
      console.log(`      skipped: hiding ${nss} needs a mount namespace (unshare -m), which needs root here`);
      this.skip();
    }
    const script = `const b = require(${JSON.stringify(require.resolve('../../src/core/browser'))});
      b.findChromium({ env: { PATH: '' } }).then(async (f) => console.log(JSON.stringify({ ...f, adapter: (await b.checkWebGpu()).adapter })));`;
    const shell = ['sh', '-c', `${hide}exec "$0" --require tsx/cjs -e "$1"`, process.execPath, script];
    const [command, ...args] = nss ? ['unshare', '-m', ...shell] : shell;
    const child = spawnSync(command, args, { encoding: 'utf8', timeout: 90_000 });
    assert.equal(child.status, 0, child.stderr);
    const found = JSON.parse(child.stdout) as FoundChromium & { adapter?: string };
    assert.equal(found.source, 'bundled');
    assert.match(found.env.LD_LIBRARY_PATH ?? '', /\/lib$/);
    assert.match(found.description, /, with its own NSS \(/);
    assert.match(found.adapter ?? '', /swiftshader/i, 'and it runs: WebGPU on SwiftShader');
  });

  it('prefers AEKIT_CHROMIUM over everything, and a bad one is an error, not a fall-back', async () => {
    const found = await findChromium({ env: { [CHROMIUM_ENV]: bundled, PATH: `${system}:${emptyPath}` } });
    assert.equal(found.source, 'AEKIT_CHROMIUM');
    assert.equal(found.executablePath, bundled);
    assert.equal(found.description, `${found.version} (AEKIT_CHROMIUM=${bundled})`);

    const missing = path.join(dir, 'no-such-chrome');
    await assert.rejects(findChromium({ env: { [CHROMIUM_ENV]: missing, PATH: emptyPath } }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'BACKEND_UNAVAILABLE');
      assert.equal(error.message, `AEKIT_CHROMIUM=${missing}: expected an executable Chromium, found no executable file there`);
      return true;
    });
    const failing = path.join(dir, 'failing-chrome');
    writeFileSync(failing, '#!/bin/sh\necho "cannot open display" >&2\nexit 3\n');
    chmodSync(failing, 0o755);
    await assert.rejects(findChromium({ env: { [CHROMIUM_ENV]: failing, PATH: emptyPath } }), new RegExp(`^AekitError: AEKIT_CHROMIUM=${failing}: the Chromium does not run \\(\`${failing} --version\` failed: cannot open display\\)$`));
  });

  it('gives a WebGPU adapter on a page served from 127.0.0.1, and says which browser ran', async () => {
    const lines: string[] = [];
    const check = await checkWebGpu(recordingLogger(lines));
    assert.ok(check.adapter, `no adapter: ${check.reason}`);
    if (check.chromium.source === 'bundled') assert.match(check.adapter, /swiftshader/i, 'the bundled Chromium runs WebGPU on SwiftShader');
    assert.deepEqual(lines, [`info: browser: ${check.chromium.description}`]);
  });

  it('starts without a GPU process when asked: a secure page there gets no WebGPU adapter', async () => {
    const server = createServer((_request, response) => response.end('<!doctype html><p>wasm only</p>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { browser } = await launchChromium({ gpu: 'off' });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      assert.equal(await page.evaluate('isSecureContext'), true);
      assert.equal(await page.evaluate('navigator.gpu ? navigator.gpu.requestAdapter().then((a) => a === null) : true'), true);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
