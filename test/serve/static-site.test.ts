/**
 * The static export (src/serve/static-site.ts) on real artifacts and runs: what the folder holds,
 * that it points only at itself, that its sizes are the files' sizes, and that it never clobbers
 * a folder or leaves half a site behind. The page itself is driven in browsers by
 * web-demo-browser.test.ts and web-demo-firefox.test.ts.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readMetadata } from '../../src/artifact/onnx-io';
import { exportWebDemo, WEB_DEMO_FORMAT, writeWebDemo } from '../../src/serve/static-site';
import { ISOLATION_WORKER_FILE } from '../../src/serve/isolation-worker';
import { ORT_RUNTIME_FILES } from '../../src/serve/static-files';
import { webArtifacts, webSite, webTempDir } from './web-helpers';
import type { WebArtifacts } from './web-helpers';

/** Every file under `dir`, relative, with its size. */
function walk(dir: string, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(out, walk(full, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = statSync(full).size;
  }
  return out;
}

describe('serve: the static export of the demo page', function () {
  this.timeout(120_000);
  let artifacts: WebArtifacts;
  before(async () => {
    artifacts = await webArtifacts();
  });

  it('holds the page, the web module, onnxruntime-web and every model, with sizes that add up', async () => {
    const site = await webSite();
    const files = walk(site.dir);
    for (const name of ['index.html', 'manifest.json', 'aekit-web.js', '_headers', '.nojekyll', ...ORT_RUNTIME_FILES.map((f) => `ort/${f}`)]) assert.ok(name in files, `${name} is in the site`);
    for (const model of ['vae', 'cvae', 'ae', 'vae2', 'joint']) for (const part of ['decoder', 'encoder']) assert.ok(`models/${model}/${part}.onnx` in files);
    assert.deepEqual(Object.fromEntries(site.files.map((f) => [f.path, f.bytes])), files, 'the result lists exactly the files written');
    const total = Object.values(files).reduce((a, b) => a + b, 0);
    assert.equal(site.bytes.total, total);
    assert.equal(site.bytes.runtime + site.bytes.models + site.bytes.page, total);
    assert.equal(site.bytes.runtime, ORT_RUNTIME_FILES.reduce((s, f) => s + files[`ort/${f}`], 0));
    assert.deepEqual(site.models, ['ae', 'cvae', 'joint', 'vae', 'vae2']);
  });

  it("lists its models as the server does, with artifact URLs relative to the manifest and the artifacts' own bytes", async () => {
    const site = await webSite();
    const manifest = JSON.parse(readFileSync(path.join(site.dir, 'manifest.json'), 'utf8')) as { format: string; models: { name: string; latentSize: number; operations: string[]; artifacts: Record<string, { url: string; bytes: number }> }[] };
    assert.equal(manifest.format, WEB_DEMO_FORMAT);
    const vae = manifest.models.find((m) => m.name === 'vae')!;
    assert.equal(vae.latentSize, 4);
    assert.deepEqual(vae.operations, ['decode', 'sample', 'encode', 'reconstruct']);
    assert.deepEqual(vae.artifacts.decoder.url, 'models/vae/decoder.onnx');
    for (const m of manifest.models) {
      for (const [part, a] of Object.entries(m.artifacts)) {
        const file = path.join(site.dir, a.url);
        assert.equal(statSync(file).size, a.bytes, `${m.name} ${part}`);
        assert.deepEqual(readMetadata(file), readMetadata(artifacts.part(m.name as 'vae', part as 'decoder')), 'copied as exported');
      }
    }
    assert.deepEqual(manifest.models.find((m) => m.name === 'joint')!.operations, ['decode', 'sample']);
  });

  it('points at nothing outside its folder: relative URLs, no CDN, no favicon request', async () => {
    const site = await webSite();
    const html = readFileSync(path.join(site.dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /https?:\/\/|src="\/\/|href="\/\//, 'no absolute or protocol-relative URL');
    assert.match(html, /"onnxruntime-web":"\.\/ort\/ort\.min\.mjs"/);
    assert.match(html, /await import\('\.\/aekit-web\.js'\)/);
    assert.match(html, /"models":"manifest\.json","wasmPaths":"ort\/"/);
    assert.match(html, /<link rel="icon" href="data:image\/svg\+xml,/);
    assert.doesNotMatch(readFileSync(path.join(site.dir, 'aekit-web.js'), 'utf8'), /https?:\/\/(?!www\.w3\.org)/, 'the web module fetches only what it is given');
    assert.equal(readFileSync(path.join(site.dir, '_headers'), 'utf8'), '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n');
    assert.ok(!existsSync(path.join(site.dir, ISOLATION_WORKER_FILE)), 'the service worker only when asked');
  });

  it('adds the isolation service worker when asked, loaded before anything else', async () => {
    const out = path.join(webTempDir('coi'), 'site');
    await writeWebDemo([artifacts.part('vae', 'decoder')], out, { serviceWorker: true, title: 'Digits <in> a page' });
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.ok(html.indexOf(`<script src="${ISOLATION_WORKER_FILE}"></script>`) < html.indexOf('<script type="importmap">'));
    assert.match(readFileSync(path.join(out, ISOLATION_WORKER_FILE), 'utf8'), /Cross-Origin-Embedder-Policy', 'require-corp'/);
    assert.match(html, /<title>Digits &#60;in&#62; a page<\/title>/);
  });

  it('never replaces a folder that has files without force, and leaves nothing behind when it fails', async () => {
    const dir = webTempDir('guard');
    const out = path.join(dir, 'site');
    mkdirSync(out);
    writeFileSync(path.join(out, 'keep.txt'), 'mine');
    await assert.rejects(writeWebDemo([artifacts.root], out), (e: Error & { code?: string; where?: string }) => e.code === 'ALREADY_EXISTS' && e.where === out && /not empty; use --force/.test(e.message));
    assert.deepEqual(readdirSync(out), ['keep.txt']);
    await writeWebDemo([artifacts.part('vae', 'decoder')], out, { force: true });
    assert.ok(!existsSync(path.join(out, 'keep.txt')) && existsSync(path.join(out, 'index.html')));

    // An encoder alone: nothing to decode, so no site, and no partial folder.
    const lonely = path.join(dir, 'encoder-only');
    mkdirSync(lonely);
    copyFileSync(artifacts.part('vae', 'encoder'), path.join(lonely, 'encoder.onnx'));
    await assert.rejects(writeWebDemo([lonely], path.join(dir, 'none')), /no decoder or generator among the artifacts/);
    assert.deepEqual(readdirSync(dir).sort(), ['encoder-only', 'site']);
  });

  it('exports a run: its decoder and encoder, verified, land in the site', async () => {
    const out = path.join(webTempDir('run'), 'site');
    const result = await exportWebDemo(artifacts.runs.vae2, out, { runtimes: ['ort-node-cpu'] });
    assert.deepEqual(result.models, ['vae2']);
    assert.deepEqual(result.exported!.artifacts.map((a) => [a.part, a.path]), [
      ['encoder', path.join(out, 'models', 'vae2', 'encoder.onnx')],
      ['decoder', path.join(out, 'models', 'vae2', 'decoder.onnx')],
    ]);
    for (const a of result.exported!.artifacts) {
      assert.ok(existsSync(a.path));
      assert.ok(a.verify!.runtimes[0].maxAbsDiff <= a.verify!.tolerance);
    }
  });
});
