/**
 * `aekit serve` as a user runs it (the built CLI as a child process): graceful shutdown on
 * SIGTERM, and the WebGPU execution provider of onnxruntime-node (on SwiftShader's Vulkan driver
 * from the bundled Chromium, in the child) giving the CPU provider's numbers.
 */
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { normalSamples } from '../../src/artifact/prior';
import type { ServeProcess, TestArtifacts } from './helpers';
import { maxAbsDiff, nodeRequest, ortReference, request, softwareVulkanOrSkip, startServeCli, stopServeCli, testArtifacts } from './helpers';

/** The serving issue's parity requirement between the WebGPU and CPU execution providers. */
const EP_TOLERANCE = 1e-3;

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Connect and send the first part of a request; the answer (once the server closes) resolves `answer`. */
function partialRequest(url: string, head: string): { socket: net.Socket; answer: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.write(head);
  let data = '';
  socket.on('data', (d) => (data += d));
  const answer = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
  return { socket, answer };
}

describe('serve: the aekit serve command', function () {
  this.timeout(90_000);
  let artifacts: TestArtifacts;
  let proc: ServeProcess | undefined;
  before(async () => {
    artifacts = await testArtifacts();
  });
  afterEach(() => stopServeCli(proc));

  it('on SIGTERM stops accepting, finishes in-flight requests and exits 0', async () => {
    // A long batching window: a request queued when SIGTERM comes must run at once, not wait it out.
    proc = await startServeCli([artifacts.root, '--max-delay-ms', '1000']);
    const url = proc.url;
    const body = JSON.stringify({ z: [[0.1, 0.2, 0.3, 0.4]] });
    const half = Math.floor(body.length / 2);
    // In flight, body still arriving.
    const slow = partialRequest(url, `POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`);
    await until(async () => (await request(`${url}/healthz`)).json.inFlight >= 2, 'the slow request to be in flight');
    // In flight, waiting in the batch queue.
    const queuedStart = Date.now();
    const queued = fetch(`${url}/v1/models/vae/decode`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    // In flight: the slow one, the queued one and the health check asking.
    await until(async () => (await request(`${url}/healthz`)).json.inFlight >= 3, 'the queued request to be in flight');

    proc.child.kill('SIGTERM');
    const queuedAnswer = await queued;
    assert.equal(queuedAnswer.status, 200);
    assert.equal(queuedAnswer.headers.get('connection'), 'close');
    assert.ok(Date.now() - queuedStart < 900, 'the queued request ran when shutdown began, not after the batching window');
    const queuedJson = (await queuedAnswer.json()) as { images: number[][] };

    await until(async () => /SIGTERM: finishing/.test(proc!.stderr()), 'the shutdown log line');
    assert.equal(proc.child.exitCode, null, 'still running while a request is in flight');
    await assert.rejects(fetch(`${url}/healthz`), 'no new connections after SIGTERM');

    slow.socket.write(body.slice(half));
    const answer = await slow.answer;
    assert.match(answer, /^HTTP\/1\.1 200 OK/);
    assert.match(answer, /Connection: close/i);
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { images: number[][] };
    assert.deepEqual(json.images, queuedJson.images);

    assert.equal(await proc.exited, 0, proc.stderr());
    assert.match(proc.stderr(), /SIGTERM: finishing 2 in-flight request\(s\), then exiting\nstopped\n/);
  });

  it('prints AekitErrors as one line and exits 1', async () => {
    await assert.rejects(startServeCli(['/nonexistent/dir']), /exited with 1 before listening; stderr:\naekit: \/nonexistent\/dir: no such file or folder/);
    await assert.rejects(startServeCli([artifacts.root, '--ep', 'cuda', '--strict-ep']), /aekit: execution provider 'cuda' cannot be used: .*CUDA/);
    await assert.rejects(startServeCli([artifacts.root, '--max-batch', 'lots']), /--max-batch: expected a number, got 'lots'/);
  });

  it('names the flag, its unit and its range for a value out of range (it named the option in bytes)', async () => {
    await assert.rejects(startServeCli([artifacts.root, '--max-body-kb', '0']), /aekit: --max-body-kb: expected a whole number of KiB in 1\.\.1048576, got 0\n/);
    await assert.rejects(startServeCli([artifacts.root, '--shutdown-timeout-ms', '-5', '--timeout-ms', '0']), /aekit: --timeout-ms: expected a whole number of ms in 1\.\.3600000, got 0; --shutdown-timeout-ms: expected a whole number of ms in 0\.\.3600000, got -5\n/);
    await assert.rejects(startServeCli([artifacts.root, '--allowed-hosts', 'models.example.org,http://x/']), /aekit: --allowed-hosts: 'http:\/\/x\/' is not a host name; expected a name/);
  });

  it('answers --allowed-hosts names, and only loopback ones without it', async () => {
    proc = await startServeCli([artifacts.vae.decoder, '--allowed-hosts', 'models.example.org']);
    const port = new URL(proc.url).port;
    const allowed = await nodeRequest(proc.url, { path: '/healthz', headers: { host: `models.example.org:${port}` } });
    assert.equal(allowed.status, 200);
    const refused = await nodeRequest(proc.url, { path: '/healthz', headers: { host: 'evil.example' } });
    assert.equal(refused.status, 403);
    assert.match(refused.body.toString('utf8'), /"code":"HOST_NOT_ALLOWED".*allowed: loopback names and models\.example\.org/);
  });

  it('runs on the WebGPU execution provider with the CPU provider numbers (SwiftShader Vulkan)', async function () {
    const vulkan = await softwareVulkanOrSkip(this);
    proc = await startServeCli([artifacts.root, '--ep', 'webgpu', '--strict-ep'], vulkan.env);
    const health = (await request(`${proc.url}/healthz`)).json;
    assert.equal(health.executionProvider.active, 'webgpu');
    assert.equal(health.executionProvider.vulkanIcd, vulkan.icd);
    assert.ok(health.executionProvider.parity.maxAbsDiff <= EP_TOLERANCE);
    const z = Array.from({ length: 8 }, (_, i) => Array.from(normalSamples(4, i)));
    const decoded = await request(`${proc.url}/v1/models/vae/decode`, { body: { z } });
    assert.equal(decoded.status, 200);
    const cpu = (await ortReference(artifacts.vae.decoder, { z: { data: Float32Array.from(z.flat()), dims: [8, 4] } })).image;
    const diff = maxAbsDiff(decoded.json.images.flat(), cpu);
    assert.ok(diff <= EP_TOLERANCE, `max |webgpu - cpu| = ${diff}`);
    const image = Array.from(normalSamples(784, 5), (v) => 1 / (1 + Math.exp(-v)));
    const encoded = await request(`${proc.url}/v1/models/vae/encode`, { body: { images: [image] } });
    const cpuCodes = (await ortReference(artifacts.vae.encoder, { image: { data: Float32Array.from(image), dims: [1, 1, 28, 28] } })).mu;
    assert.ok(maxAbsDiff(encoded.json.z[0], cpuCodes) <= EP_TOLERANCE);
  });
});
