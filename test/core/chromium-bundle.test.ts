/**
 * unpackChromiumBundle with the real @sparticuz/chromium package, into a temp root of the test's
 * own: the folder it makes, reuse, recovery from a killed unpack and from a damaged folder.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromiumBundleDir, unpackChromiumBundle } from '../../src/core/chromium-bundle';

const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(path.dirname(require.resolve('@sparticuz/chromium')), '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('core/chromium-bundle: the Chromium of @sparticuz/chromium', function () {
  this.timeout(120_000);
  let tmpRoot: string;

  before(() => {
    tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'aekit-bundle-test-'));
  });
  after(() => rmSync(tmpRoot, { recursive: true, force: true }));

  it('is killed mid-unpack in another process, then unpacked here: the leftover goes, the folder is complete', async () => {
    // A child unpacks into the same root; it is killed with SIGKILL once its browser binary is half written.
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../src/core/chromium-bundle.ts'))}).unpackChromiumBundle({ tmpRoot: ${JSON.stringify(tmpRoot)} })`;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { stdio: 'ignore' });
    const partial = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const name = readdirSync(tmpRoot).find((n) => n.includes('.partial-'));
        const browser = name && path.join(tmpRoot, name, 'chromium');
        if (browser && existsSync(browser) && statSync(browser).size > 20e6) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(path.join(tmpRoot, name));
        }
      }, 20);
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') {
          clearInterval(timer);
          reject(new Error(`the child unpack ended (${code ?? signal}) before it could be killed`));
        }
      });
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    assert.ok(existsSync(partial), 'the killed unpack left its staging folder');
    const dir = chromiumBundleDir(PACKAGE_VERSION, tmpRoot);
    assert.ok(!existsSync(dir), 'and no bundle folder');

    const told: string[] = [];
    const bundle = await unpackChromiumBundle({ tmpRoot, onUnpack: (d) => told.push(d) });
    assert.deepEqual(told, [dir]);
    assert.equal(bundle.dir, dir);
    assert.equal(bundle.packageVersion, PACKAGE_VERSION);
    assert.ok(!existsSync(partial), 'the dead process\'s staging folder is removed');
    assert.deepEqual(readdirSync(tmpRoot), [path.basename(dir)]);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'only its owner can use the folder');
    assert.match(execFileSync(bundle.executablePath, ['--version'], { encoding: 'utf8' }), /^Chromium \d+\./);
    const icd = JSON.parse(readFileSync(bundle.vulkanIcd, 'utf8')) as { ICD: { library_path: string } };
    assert.ok(existsSync(path.resolve(path.dirname(bundle.vulkanIcd), icd.ICD.library_path)), 'the ICD names a driver next to it');
    assert.ok(existsSync(path.join(dir, 'libvulkan.so.1')), 'the Vulkan loader sits next to the ICD');
    assert.ok(existsSync(path.join(bundle.libDir, 'libnss3.so')));
    const fonts = readFileSync(bundle.fontConfigFile, 'utf8');
    assert.ok(fonts.includes(`<dir>${path.join(dir, 'fonts')}</dir>`), fonts);
    assert.ok(existsSync(path.join(dir, 'fonts', 'Open_Sans', 'OpenSans-Regular.ttf')));
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'bundle.json'), 'utf8')).version, PACKAGE_VERSION);
  });

  it('reuses a complete folder and unpacks a damaged one again', async () => {
    const dir = chromiumBundleDir(PACKAGE_VERSION, tmpRoot);
    const told: string[] = [];
    const onUnpack = (d: string) => told.push(d);
    const first = statSync(path.join(dir, 'chromium')).mtimeMs;
    await unpackChromiumBundle({ tmpRoot, onUnpack });
    assert.deepEqual(told, [], 'a complete folder is not unpacked again');
    assert.equal(statSync(path.join(dir, 'chromium')).mtimeMs, first);

    rmSync(path.join(dir, 'libvulkan.so.1'));
    const [a, b] = await Promise.all([unpackChromiumBundle({ tmpRoot, onUnpack }), unpackChromiumBundle({ tmpRoot, onUnpack })]);
    assert.deepEqual(told, [dir], 'two concurrent callers share one unpack');
    assert.equal(a, b);
    assert.ok(existsSync(path.join(dir, 'libvulkan.so.1')));
    assert.deepEqual(readdirSync(tmpRoot), [path.basename(dir)], 'the damaged folder is gone');
  });
});
