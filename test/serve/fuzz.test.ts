/**
 * Property-based fuzzing of `aekit serve` from its own OpenAPI document (fast-check, loopback,
 * bounded): requests built from the documented paths and request-body schemas, mutated in
 * structure, text, headers and framing. Every answer must be a 2xx or a 4xx in the JSON error
 * shape, with a code that goes with the status, a status the document lists for the operation, no
 * stack trace and no file path; valid requests must succeed; concurrent mixed batches must give
 * each valid request the bytes it gets alone. The seed is fixed (AEKIT_FUZZ_SEED overrides it;
 * AEKIT_FUZZ_SCALE multiplies the run counts); the counts are reported in docs/reliability.md.
 */
import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import * as path from 'node:path';
import fc from 'fast-check';
import type { Logger } from '../../src/core/log';
import { MODELS_DIR } from '../../src/core/paths';
import { startServer } from '../../src/serve';
import type { AekitServer } from '../../src/serve';
import type { FuzzTarget, Schema } from './fuzz-arbitraries';
import { bodyText, headerArbitraries, pathFrom, rawRequest } from './fuzz-arbitraries';
import type { RawResponse } from './helpers';
import { assertErrorShape, nodeRequest, parseResponses, rawConnection, request, testArtifacts } from './helpers';

const SEED = Number(process.env.AEKIT_FUZZ_SEED ?? 20261203);
const SCALE = Number(process.env.AEKIT_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

interface Operation {
  template: string;
  method: string;
  operationId: string;
  body?: string;
  responses: Record<string, { content?: Record<string, unknown> }>;
}

describe('serve: fuzzing from the OpenAPI document', function () {
  this.timeout(240_000);
  let server: AekitServer;
  let operations: Operation[];
  let target: FuzzTarget;
  const counts: Record<string, Record<string, number>> = {};
  const logged: string[] = [];
  const logger: Logger = { error: (m) => logged.push(`error: ${m}`), warn: (m) => logged.push(`warn: ${m}`), info() {}, debug() {} };

  before(async () => {
    const artifacts = await testArtifacts();
    // The three tiny latent models and the shipped MNIST classifier (/classify).
    server = await startServer({ models: [artifacts.root, path.join(MODELS_DIR, 'mnist-classifier.onnx')], port: 0, maxRowsPerRequest: 16, maxBodyBytes: 256 * 1024, requestTimeoutMs: 800, logger });
    const doc = (await request(`${server.url}/openapi.json`)).json as { paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Operation['responses'] }>>; components: { schemas: Record<string, Schema> } };
    operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ template, method: method.toUpperCase(), operationId: op.operationId, body: op.requestBody?.content['application/json'].schema.$ref, responses: op.responses })),
    );
    const models = (await request(`${server.url}/v1/models`)).json.models as { name: string; latentSize?: number; imageShape: { channels: number; height: number; width: number } }[];
    const v2Model = doc.paths['/v2/models/{model_name}'].get as unknown as { parameters: { schema: { enum: string[] } }[] };
    target = {
      schemas: doc.components.schemas,
      names: models.map((m) => m.name),
      v2Names: v2Model.parameters[0].schema.enum,
      rowLengths: [...new Set(models.flatMap((m) => [...(m.latentSize === undefined ? [] : [m.latentSize]), m.imageShape.channels * m.imageShape.height * m.imageShape.width]))],
    };
  });
  after(async () => {
    console.log(`      requests fuzzed: ${JSON.stringify(counts)}`);
    if (server) await server.close();
  });

  /** The operation a method and path ask for, by the document's templates; `pathOnly`: the path is documented, not the method. */
  function operationOf(method: string, path: string): { op?: Operation; pathOnly: boolean } {
    const pathname = path.split('?')[0].replace(/(.)\/$/, '$1');
    const onPath = operations.filter((o) => new RegExp(`^${o.template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname));
    const op = onPath.find((o) => o.method === method || (o.method === 'GET' && method === 'HEAD'));
    return { op, pathOnly: !op && onPath.length > 0 };
  }

  /** The invariants of every answer; returns a label for the tally. */
  function checkAnswer(res: RawResponse, method: string, path: string, what: string): void {
    const label = `${method} ${path.slice(0, 80)} (${what})`;
    assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), `${label}: status ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    const { op, pathOnly } = operationOf(method, path);
    if (res.status >= 400 && method === 'HEAD') {
      // The answer to HEAD has the error's headers, not its body.
      assert.match(res.headers['content-type'] ?? '', /^application\/json/, label);
    } else if (res.status >= 400) {
      const error = assertErrorShape(res, label);
      // Under /v2 every layer answers in the v2 protocol's error shape, elsewhere in the server's own.
      assert.equal(error.dialect, /^\/v2([/?]|$)/.test(path) ? 'v2' : 'aekit', `${label}: error body ${res.body.toString('utf8').slice(0, 200)}`);
      assert.doesNotMatch(error.message, /\n\s+at |\/tmp\/|\/work\/|\/home\/|node_modules|\.ts:\d+/, `${label}: the message shows a stack or a path: ${error.message}`);
      // Off the document's paths: 404, or 405 where a route is wider than its template (`{part}.onnx` is any file name).
      const allowed = op ? Object.keys(op.responses) : ['400', '403', '408', '417', '431', '503', '405', ...(pathOnly ? [] : ['404'])];
      assert.ok(allowed.includes(String(res.status)), `${label}: ${res.status} ${error.code} is not documented for ${op?.operationId ?? 'this path'} (${allowed.join(', ')}): ${error.message}`);
    } else {
      assert.ok(op, `${label}: ${res.status} on an undocumented operation`);
      const type = (res.headers['content-type'] ?? '').split(';')[0];
      assert.ok(type in (op.responses['200'].content ?? {}), `${label}: ${type} is not a documented answer of ${op.operationId}`);
      if (type === 'application/json' && method !== 'HEAD') JSON.parse(res.body.toString('utf8'));
    }
  }

  /** Count a request of a property, and its answer's status. */
  const tally = (kind: string, status: number) => {
    counts[kind] ??= { requests: 0 };
    counts[kind].requests++;
    counts[kind][status] = (counts[kind][status] ?? 0) + 1;
  };

  it('every documented operation, mutated in body, headers, path and method, answers a 2xx or a JSON 4xx it documents', async () => {
    const requestArbitrary = fc
      .constantFrom(...operations)
      .chain((op) =>
        fc.record({
          op: fc.constant(op),
          method: fc.oneof({ weight: 10, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH') }),
          path: pathFrom(op.template, target),
          body: op.body ? bodyText({ $ref: op.body }, target) : fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
          accept: headerArbitraries.accept,
          contentType: headerArbitraries.contentType,
          encoding: headerArbitraries.encoding,
          host: headerArbitraries.host,
          expect: headerArbitraries.expect,
        }),
      );
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (r) => {
        const headers: Record<string, string> = {};
        if (r.accept !== undefined) headers.accept = r.accept;
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        if (r.host !== 'default') headers.host = r.host;
        if (r.expect !== undefined) headers.expect = r.expect;
        let body: string | Buffer | undefined = r.body;
        if (r.encoding !== undefined) headers['content-encoding'] = r.encoding.split(' ')[0];
        if (body !== undefined && r.encoding !== undefined && /gzip$/.test(r.encoding)) body = gzipSync(body);
        const res = await nodeRequest(server.url, { method: r.method, path: r.path, headers, body });
        tally('documented', res.status);
        checkAnswer(res, r.method, r.path, `${r.op.operationId}, body ${JSON.stringify(r.body ?? '').slice(0, 120)}, headers ${JSON.stringify(headers)}`);
      }),
      // About 63 requests per documented operation (10 of the server's own, 9 of the v2 protocol).
      { seed: SEED, numRuns: runs(1200) },
    );
  });

  it('valid requests succeed: bodies valid by the schema and the model answer 200 with one result per row', async () => {
    const valid = fc.constantFrom(...target.names).chain((name) => {
      const model = server.models.find((m) => m.name === name)!;
      const size = model.imageShape.channels * model.imageShape.height * model.imageShape.width;
      const label = model.conditional ? { label: fc.integer({ min: 0, max: (model.numClasses ?? 1) - 1 }) } : {};
      const row = (n: number, lo: number, hi: number) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: n, maxLength: n });
      const ops: fc.Arbitrary<{ op: string; body: unknown }>[] = [];
      if (model.kind === 'classifier') ops.push(fc.record({ images: fc.array(row(size, 0, 1), { minLength: 1, maxLength: 4 }) }).map((body) => ({ op: 'classify', body })));
      if (model.decoder) ops.push(fc.record({ z: fc.array(row(model.latentSize, -3, 3), { minLength: 1, maxLength: 16 }), ...label }).map((body) => ({ op: 'decode', body })));
      if (model.canSample) ops.push(fc.record({ n: fc.integer({ min: 1, max: 16 }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }), ...label }).map((body) => ({ op: 'sample', body })));
      if (model.encoder && model.decoder) {
        const images = fc.record({ images: fc.array(row(size, 0, 1), { minLength: 1, maxLength: 4 }), ...label });
        ops.push(images.map((body) => ({ op: 'encode', body })), images.map((body) => ({ op: 'reconstruct', body })));
      }
      return fc.tuple(fc.constant(name), fc.oneof(...ops));
    });
    await fc.assert(
      fc.asyncProperty(valid, async ([name, { op, body }]) => {
        const res = await request(`${server.url}/v1/models/${name}/${op}`, { body });
        tally('valid', res.status);
        assert.equal(res.status, 200, `${name}/${op}: ${JSON.stringify(res.json).slice(0, 300)}`);
        const rows = (body as { z?: unknown[]; images?: unknown[]; n?: number }).z?.length ?? (body as { images?: unknown[] }).images?.length ?? (body as { n: number }).n;
        assert.equal((res.json.images ?? res.json.z ?? res.json.probabilities).length, rows);
      }),
      { seed: SEED, numRuns: runs(120) },
    );
  });

  it('concurrent batches of valid and invalid requests give each valid one the bytes it gets alone', async () => {
    const item = fc.oneof(
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }).map((row) => ({ body: JSON.stringify({ z: [row] }), valid: true })),
      bodyText({ $ref: '#/components/schemas/DecodeRequest' }, target).map((body) => ({ body, valid: false })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 2, maxLength: 12 }), async (batch) => {
        const together = await Promise.all(batch.map((b) => request(`${server.url}/v1/models/vae/decode`, { body: b.body })));
        for (const [i, b] of batch.entries()) {
          tally('concurrent', together[i].status);
          checkAnswer({ status: together[i].status, headers: { 'content-type': together[i].headers.get('content-type') ?? '' }, body: together[i].bytes }, 'POST', '/v1/models/vae/decode', b.body.slice(0, 120));
          if (!b.valid) continue;
          const alone = await request(`${server.url}/v1/models/vae/decode`, { body: b.body });
          assert.equal(together[i].status, 200);
          assert.ok(together[i].bytes.equals(alone.bytes), `request ${i} of ${batch.length} got other bytes in the batch than alone`);
        }
      }),
      { seed: SEED, numRuns: runs(40) },
    );
  });

  it('raw requests (request line, headers, framing) get at least one answer, each a 2xx or a JSON 4xx', async () => {
    const paths = fc.constantFrom(...operations).chain((op) => pathFrom(op.template, target));
    const bodies = fc.constantFrom(...operations.filter((o) => o.body)).chain((op) => bodyText({ $ref: op.body! }, target));
    await fc.assert(
      fc.asyncProperty(fc.array(rawRequest(paths, bodies), { minLength: 8, maxLength: 8 }), async (batch) => {
        const exchanges = await Promise.all(batch.map((r) => rawConnection(server.url, (socket) => socket.write(r.bytes), 5000)));
        for (const [i, exchange] of exchanges.entries()) {
          const { bytes } = batch[i];
          const label = JSON.stringify(bytes.subarray(0, 200).toString('latin1'));
          // A HEAD request (its answers have no body) is one whose request line starts so; 'HEAD\r\n' is not HTTP.
          const head = bytes.subarray(0, 5).toString('latin1') === 'HEAD ';
          assert.notEqual(exchange.ended, 'timeout', `no answer within 5 s to ${label}`);
          const responses = parseResponses(exchange.raw, head ? 'HEAD' : 'GET');
          assert.ok(responses.length >= 1, `${exchange.ended} without an answer to ${label}`);
          for (const res of responses) {
            tally('raw', res.status);
            assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), `${res.status} to ${label}: ${res.body.toString('utf8').slice(0, 200)}`);
            if (res.status >= 400 && head) assert.match(res.headers['content-type'] ?? '', /^application\/json/, label);
            else if (res.status >= 400) assertErrorShape(res, label);
          }
        }
      }),
      { seed: SEED, numRuns: runs(50) },
    );
  });

  it('logged no server fault, and still serves', async () => {
    assert.deepEqual(logged.filter((l) => l.startsWith('error:')), []);
    assert.equal((await request(`${server.url}/healthz`)).status, 200);
    assert.equal(server.health().inFlight, 0);
  });
});
