/**
 * The edges of the protocol against a real server on 127.0.0.1: every layer answers in the JSON
 * error shape with a code that goes with its status, Host checks, the body types and encodings
 * accepted, Accept q-values, numbers that overflow the model, and messages that name the field.
 * Each case here failed before the server's edges were fixed (issue 16).
 */
import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../../src/core/log';
import { normalSamples } from '../../src/artifact/prior';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import type { TestArtifacts } from './helpers';
import { assertErrorShape, nodeRequest, overflowingLatent, parseResponses, rawConnection, request, testArtifacts } from './helpers';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug') };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const Z4 = JSON.stringify({ z: [[0.5, -0.5, 0.25, 0]] });

describe('serve: the edges of the protocol', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  let server: AekitServer;
  let url: string;
  const logger = recordingLogger();

  /** Send raw bytes, half-close, and parse what came back. */
  async function raw(text: string) {
    const exchange = await rawConnection(url, (socket) => socket.end(text));
    return { ...exchange, responses: parseResponses(exchange.raw) };
  }

  before(async () => {
    artifacts = await testArtifacts();
    server = await startServer({ models: artifacts.root, port: 0, maxRowsPerRequest: 16, maxBodyBytes: 64 * 1024, logger });
    url = server.url;
  });
  after(async () => {
    if (server) assert.deepEqual(await server.close(), { forced: false });
  });

  describe('every layer answers in the JSON error shape, with a code that goes with the status', () => {
    it('headers over the limit: 431 HEADERS_TOO_LARGE', async () => {
      const { responses } = await raw(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.equal(responses[0].status, 431);
      const error = assertErrorShape(responses[0], '431');
      assert.equal(error.code, 'HEADERS_TOO_LARGE');
      assert.match(error.message, /the request line and headers are over 16384 bytes/);
    });

    it('no Host: 400 BAD_HOST in JSON (node:http answered an empty 400)', async () => {
      const { responses } = await raw('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
      assert.equal(responses[0].status, 400);
      assert.equal(assertErrorShape(responses[0]).code, 'BAD_HOST');
      assert.match(assertErrorShape(responses[0]).message, /no Host header; HTTP\/1\.1 requests have exactly one/);
    });

    it('two Host headers: 400 BAD_HOST (they were accepted)', async () => {
      const { responses } = await raw('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n');
      assert.equal(responses[0].status, 400);
      assert.match(assertErrorShape(responses[0]).message, /the request has 2 Host headers \('127\.0\.0\.1', 'evil\.example'\)/);
    });

    it('an unknown expectation: 417 EXPECTATION_FAILED in JSON', async () => {
      const res = await nodeRequest(url, { path: '/healthz', headers: { expect: 'tea' } });
      assert.equal(res.status, 417);
      assert.match(assertErrorShape(res).message, /Expect: 'tea' is not supported; only 100-continue is/);
    });

    it('CONNECT: 405 in JSON (the connection was dropped without an answer)', async () => {
      const { responses } = await raw('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
      assert.equal(responses[0].status, 405);
      assert.match(assertErrorShape(responses[0]).message, /CONNECT is not allowed: this server is not a proxy/);
    });

    it('a request that is not HTTP: 400 BAD_REQUEST in JSON', async () => {
      const { responses } = await raw('THIS IS NOT HTTP\r\n\r\n');
      assert.equal(assertErrorShape(responses[0]).code, 'BAD_REQUEST');
    });
  });

  it('on a loopback bind answers loopback Host values only, unless allowed (DNS rebinding)', async () => {
    const evil = await nodeRequest(url, { path: '/v1/models', headers: { host: 'evil.example:8080' } });
    assert.equal(evil.status, 403);
    const error = assertErrorShape(evil);
    assert.equal(error.code, 'HOST_NOT_ALLOWED');
    assert.match(error.message, /Host 'evil\.example' is not allowed .* --allowed-hosts evil\.example/);
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, 'app.localhost']) {
      assert.equal((await nodeRequest(url, { path: '/v1/models', headers: { host } })).status, 200, host);
    }
    const open = await startServer({ models: artifacts.vae.decoder, port: 0, allowedHosts: ['.example.org'] });
    try {
      assert.equal((await nodeRequest(open.url, { path: '/healthz', headers: { host: 'models.example.org' } })).status, 200);
      assert.equal((await nodeRequest(open.url, { path: '/healthz', headers: { host: 'evil.example' } })).status, 403);
    } finally {
      await open.close();
    }
  });

  it('JSON endpoints need application/json: text/plain, forms and untyped bodies get 415 (cross-site simple requests)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const res = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: type ? { 'content-type': type } : {}, body: Z4 });
      assert.equal(res.status, 415, String(type));
      assert.equal(assertErrorShape(res).code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(assertErrorShape(res).message, /send Content-Type: application\/json/);
    }
    const utf8 = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: { 'content-type': 'application/json; charset=UTF-8' }, body: Z4 });
    assert.equal(utf8.status, 200);
  });

  it('a refused Expect: 100-continue request is answered before its body is sent', async () => {
    const { raw: bytes } = await rawConnection(url, (socket) =>
      socket.write('POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n'),
    );
    assert.match(bytes.toString('latin1'), /^HTTP\/1\.1 415 /);
    assert.doesNotMatch(bytes.toString('latin1'), /100 Continue/);
  });

  it('Content-Encoding: gzip bodies are decoded; a bad one is 400, a bomb 413, other encodings 415', async () => {
    const plain = await request(`${url}/v1/models/vae/decode`, { body: Z4 });
    const zipped = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: gzipSync(Z4) });
    assert.equal(zipped.status, 200);
    assert.deepEqual(JSON.parse(zipped.body.toString('utf8')).images, plain.json.images);

    const bad = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: Z4 });
    assert.equal(bad.status, 400);
    assert.equal(assertErrorShape(bad).code, 'BAD_ENCODING');

    // 2 MB of spaces compress to ~2 KB: under the 64 KiB limit as sent, far over it decompressed.
    const bomb = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: gzipSync(`${' '.repeat(2_000_000)}${Z4}`) });
    assert.equal(bomb.status, 413);
    assert.match(assertErrorShape(bomb).message, /the decompressed body is over 65536 bytes/);

    const brotli = await nodeRequest(url, { method: 'POST', path: '/v1/models/vae/decode', headers: { ...JSON_HEADERS, 'content-encoding': 'br' }, body: Z4 });
    assert.equal(brotli.status, 415);
    assert.equal(assertErrorShape(brotli).code, 'UNSUPPORTED_ENCODING');
    assert.equal(brotli.headers['accept-encoding'], 'gzip');
  });

  it('Accept q-values decide the answer format, not the order of the list', async () => {
    const json = await request(`${url}/v1/models/vae/decode`, { body: Z4, headers: { accept: 'image/png;q=0.1, application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    const png = await request(`${url}/v1/models/vae/decode`, { body: Z4, headers: { accept: 'application/json;q=0.5, image/png' } });
    assert.equal(png.headers.get('content-type'), 'image/png');
    const none = await request(`${url}/v1/models/vae/decode`, { body: Z4, headers: { accept: 'image/png;q=0, application/json;q=0' } });
    assert.equal(none.status, 406);
  });

  it('latents that overflow float32 are a 400 naming the value (they were a 500)', async () => {
    for (const value of ['1e39', '3.5e38', '1e308', '-1e39']) {
      const res = await request(`${url}/v1/models/vae/decode`, { body: `{"z":[[0,0,0,0],[0,${value},0,0]]}` });
      assert.equal(res.status, 400, value);
      assert.equal(res.json.error.code, 'NOT_FINITE');
      assert.equal(res.json.error.where, 'z[1][1]');
      assert.match(res.json.error.message, /^z\[1\]\[1\]: -?1e\+39|^z\[1\]\[1\]: 3\.5e\+38|^z\[1\]\[1\]: 1e\+308/);
      assert.match(res.json.error.message, /overflows float32, the model's input type \(largest magnitude 3\.4028235e\+38\)/);
    }
    const infinite = await request(`${url}/v1/models/vae/decode`, { body: '{"z":[[0,1e309,0,0]]}' });
    assert.equal(infinite.status, 400);
    assert.equal(infinite.json.error.code, 'NOT_FINITE');
    assert.ok(!logger.lines.some((l) => l.startsWith('error:')), logger.lines.join('\n'));
  });

  it('finite latents the decoder overflows on are a 422 naming the row, logged once a minute at most, without a stack', async () => {
    const overflowing = await overflowingLatent(artifacts.ae.decoder);
    const before = logger.lines.length;
    for (let i = 0; i < 5; i++) {
      const res = await request(`${url}/v1/models/ae/decode`, { body: { z: [Array.from(normalSamples(5, i)), overflowing] } });
      assert.equal(res.status, 422);
      assert.equal(res.json.error.code, 'OUTPUT_NOT_FINITE');
      assert.equal(res.json.error.where, 'z[1]');
      assert.match(res.json.error.message, /^z\[1\]: model 'ae' decoded this row to non-finite values \(NaN\): its latent values are too large for the decoder \(largest magnitude 3\.40e\+38\)/);
    }
    const logged = logger.lines.slice(before);
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0], /^warn: decode: model 'ae' gave non-finite outputs for a client's z\[1\] \(answered 422\)/);
    assert.doesNotMatch(logged[0], /\n/);
    assert.equal((await request(`${url}/v1/models/ae/decode`, { body: { z: [[0, 0, 0, 0, 0]] } })).status, 200);
  });

  describe('messages say what was expected and what came, with the field', () => {
    it('a list nested one level too deep', async () => {
      const res = await request(`${url}/v1/models/vae/decode`, { body: { z: [[[0, 0, 0, 0]]] } });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.message, 'z[0][0]: expected a number, got an array of 4: the list is nested one level too deep; expected {"z": [[4 numbers]]}');
    });

    it('one flat image without the outer list', async () => {
      const res = await request(`${url}/v1/models/vae/encode`, { body: { images: new Array(784).fill(0.5) } });
      assert.equal(res.status, 400);
      assert.match(res.json.error.message, /^images\[0\]: expected an image \(a list of numbers or nested lists\), got 0\.5; images is a list of images: send one image as \{"images": \[\[784 numbers\]\]\}$/);
    });

    it('an option out of range: the option, its range and its unit', async () => {
      await assert.rejects(startServer({ models: artifacts.vae.decoder, maxBodyBytes: 0 }), /maxBodyBytes must be a whole number in 1024\.\.1073741824, got 0 \(bytes\)/);
      await assert.rejects(startServer({ models: artifacts.vae.decoder, shutdownTimeoutMs: 1.5 }), /shutdownTimeoutMs must be a whole number in 0\.\.3600000, got 1\.5 \(ms\)/);
    });

    it('one nested image without the outer list: its rows are not images', async () => {
      const rows = new Array(28).fill(new Array(28).fill(0.5));
      const res = await request(`${url}/v1/models/vae/encode`, { body: { images: rows } });
      assert.equal(res.json.error.code, 'TOO_MANY_ROWS');
      assert.equal(res.json.error.message, 'images: 28 rows, the limit per request is 16 (--max-rows); if this is one 1x28x28 image, wrap it in a list: {"images": [image]}');
      const few = await request(`${url}/v1/models/vae/encode`, { body: { images: rows.slice(0, 1) } });
      assert.equal(few.json.error.code, 'WRONG_SIZE');
    });
  });
});
