/**
 * The OpenAPI document agrees with the running server: every documented operation answers 200
 * to a valid request, with a documented content type and every required field of its schema.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { z } from 'zod';
import { MODELS_DIR } from '../../src/core/paths';
import { startServer } from '../../src/serve';
import { REQUEST_SCHEMAS } from '../../src/serve/requests';
import type { AekitServer } from '../../src/serve';
import { request, testArtifacts } from './helpers';

type Schema = { $ref?: string; allOf?: Schema[]; required?: string[]; properties?: Record<string, Schema>; type?: string; enum?: unknown[] };

/** A valid request for each documented operation, on the VAE test model (and the shipped MNIST classifier). */
const EXAMPLES: Record<string, { path: string; body?: unknown }> = {
  health: { path: '/healthz' },
  metrics: { path: '/metrics' },
  listModels: { path: '/v1/models' },
  getModel: { path: '/v1/models/vae' },
  getArtifact: { path: '/v1/models/vae/artifacts/decoder.onnx' },
  decode: { path: '/v1/models/vae/decode', body: { z: [[0, 1, 0, -1]] } },
  sample: { path: '/v1/models/vae/sample', body: { n: 2, seed: 1 } },
  encode: { path: '/v1/models/vae/encode', body: { images: [new Array(784).fill(0.5)] } },
  reconstruct: { path: '/v1/models/vae/reconstruct', body: { images: [new Array(784).fill(0.5)] } },
  classify: { path: '/v1/models/mnist-classifier/classify', body: { images: [new Array(784).fill(0.5)] } },
  v2ServerMetadata: { path: '/v2' },
  v2Live: { path: '/v2/health/live' },
  v2Ready: { path: '/v2/health/ready' },
  v2ModelMetadata: { path: '/v2/models/vae-decoder' },
  v2ModelVersionMetadata: { path: '/v2/models/vae-decoder/versions/1' },
  v2ModelReady: { path: '/v2/models/vae-decoder/ready' },
  v2ModelVersionReady: { path: '/v2/models/vae-decoder/versions/1/ready' },
  v2Infer: { path: '/v2/models/vae-decoder/infer', body: { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', data: [0, 1, 0, -1] }] } },
  v2VersionInfer: { path: '/v2/models/vae-decoder/versions/1/infer', body: { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', data: [0, 1, 0, -1] }] } },
};

const JSON_TYPES: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  array: Array.isArray,
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
};

describe('serve: OpenAPI document', function () {
  this.timeout(60_000);
  let server: AekitServer;
  let doc: { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>; components: { schemas: Record<string, Schema> } };

  before(async () => {
    server = await startServer({ models: [(await testArtifacts()).root, path.join(MODELS_DIR, 'mnist-classifier.onnx')], port: 0 });
    doc = (await request(`${server.url}/openapi.json`)).json;
  });
  after(() => server?.close());

  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
    if (schema.allOf) {
      const parts = schema.allOf.map(resolve);
      return { required: parts.flatMap((p) => p.required ?? []), properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) };
    }
    return schema;
  };

  it('is OpenAPI 3.1 with every $ref resolvable and the model names as the path enum', () => {
    assert.equal(doc.openapi, '3.1.0');
    const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/\w+"/g) ?? [];
    assert.ok(refs.length > 5);
    for (const ref of refs) assert.ok(doc.components.schemas[JSON.parse(ref).replace('#/components/schemas/', '')], ref);
    const decode = doc.paths['/v1/models/{name}/decode'].post as unknown as { parameters: { schema: { enum: string[] } }[] };
    assert.deepEqual(decode.parameters[0].schema.enum, ['ae', 'cvae', 'mnist-classifier', 'vae']);
  });

  it('documents the request bodies with the zod schemas the server validates them with', () => {
    for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) {
      const { $schema: _dialect, ...expected } = z.toJSONSchema(schema, { io: 'input' });
      assert.deepEqual(doc.components.schemas[name], expected, name);
    }
  });

  it('documents exactly the operations the server has, and each answers as documented', async () => {
    const operations = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ path: p, method, op })));
    assert.deepEqual(operations.map((o) => o.op.operationId).sort(), Object.keys(EXAMPLES).sort());
    for (const { method, op } of operations) {
      const example = EXAMPLES[op.operationId];
      const res = await request(`${server.url}${example.path}`, { method: method.toUpperCase(), body: example.body });
      assert.equal(res.status, 200, `${op.operationId}: ${res.bytes.toString('utf8').slice(0, 200)}`);
      const documented = op.responses['200'].content ?? {};
      const type = (res.headers.get('content-type') ?? '').split(';')[0];
      assert.ok(type in documented, `${op.operationId}: ${type} not in ${Object.keys(documented).join(', ')}`);
      if (type !== 'application/json') continue;
      const schema = resolve(documented['application/json'].schema);
      for (const field of schema.required ?? []) assert.ok(field in res.json, `${op.operationId}: required '${field}' missing`);
      for (const [field, property] of Object.entries(schema.properties ?? {})) {
        const p = resolve(property);
        if (!(field in res.json)) continue;
        if (p.type) assert.ok(JSON_TYPES[p.type](res.json[field]), `${op.operationId}: '${field}' is not ${p.type}`);
        if (p.enum) assert.ok(p.enum.includes(res.json[field]), `${op.operationId}: '${field}' = ${res.json[field]} not in enum`);
      }
    }
  });
});
