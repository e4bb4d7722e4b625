/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built for the models this server loaded
 * (their names are the `name` path parameter's enum). The request bodies are the zod schemas the
 * server validates them with (requests.ts); paths and responses are written here, next to the
 * route table (routes.ts) they describe. test/serve checks every documented operation against the
 * running server.
 */
import { z } from 'zod';
import { AEKIT_VERSION } from '../core/version';
import type { ServedModel } from './models';
import { OPERATIONS } from './operations';
import { REQUEST_SCHEMAS } from './requests';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const imageResponses = (description: string, schema: string) => ({
  200: {
    description,
    headers: {
      'X-Aekit-Shape': { description: 'With application/octet-stream: the tensor shape, comma-separated (N,C,H,W).', schema: { type: 'string' } },
    },
    content: {
      ...json(ref(schema)),
      'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'Raw little-endian float32 in NCHW order; shape in X-Aekit-Shape.' } },
      'image/png': { schema: { type: 'string', format: 'binary', description: 'One image, or a grid of all of them with 2-pixel gaps.' } },
    },
  },
  400: error('Invalid body: the message names the field, what was expected and what came.'),
  404: error("Unknown model, or a model that does not offer this operation (it lacks the artifact, a prior to sample, or a code output): the message says which."),
  406: error('The Accept header asks for a format this endpoint does not produce.'),
  413: error('The body is larger than the server allows.'),
  415: error('The body is not JSON.'),
  408: error('The body did not arrive within the request timeout.'),
  503: error('The answer was not ready within the request timeout.'),
});

/** The request bodies' JSON Schemas (draft 2020-12, OpenAPI 3.1's dialect), from their zod schemas. */
function requestSchemas(): Record<string, Schema> {
  return Object.fromEntries(
    Object.entries(REQUEST_SCHEMAS).map(([name, schema]) => {
      const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input' });
      return [name, json];
    }),
  );
}

/** The document for a server with these models. */
export function openApiDocument(models: readonly ServedModel[]): Record<string, unknown> {
  const nameParameter = {
    name: 'name',
    in: 'path',
    required: true,
    description: 'Model name (the run id of its artifacts).',
    schema: { type: 'string', enum: models.map((m) => m.name) },
  };
  const post = (operationId: string, summary: string, body: string, responses: Record<string, unknown>) => ({
    post: {
      operationId,
      summary,
      parameters: [nameParameter],
      requestBody: { required: true, content: json(ref(body)) },
      responses,
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'aekit serve',
      version: AEKIT_VERSION,
      description: 'Decoders and encoders exported by aekit, run on onnxruntime-node. Concurrent requests to one model are merged into one run (dynamic batching).',
    },
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness, the active execution provider and batching counters.',
          responses: { 200: { description: 'Serving.', content: json(ref('Health')) }, 503: { description: 'Shutting down.', content: json(ref('Health')) } },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Request and batching counters in the Prometheus text format.',
          responses: { 200: { description: 'Counters.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/models': {
        get: {
          operationId: 'listModels',
          summary: 'Loaded models with the metadata of their artifacts.',
          responses: { 200: { description: 'Models.', content: json({ type: 'object', required: ['models'], properties: { models: { type: 'array', items: ref('Model') } } }) } },
        },
      },
      '/v1/models/{name}': {
        get: { operationId: 'getModel', summary: 'One model.', parameters: [nameParameter], responses: { 200: { description: 'The model.', content: json(ref('Model')) }, 404: error('Unknown model.') } },
      },
      '/v1/models/{name}/artifacts/{part}.onnx': {
        get: {
          operationId: 'getArtifact',
          summary: 'The ONNX artifact itself (what the demo page and aekit-web load).',
          parameters: [nameParameter, { name: 'part', in: 'path', required: true, schema: { type: 'string', enum: ['decoder', 'encoder'] } }],
          responses: { 200: { description: 'ONNX bytes.', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 404: error('Unknown model or part.') },
        },
      },
      '/v1/models/{name}/decode': post('decode', 'Latents -> images.', 'DecodeRequest', imageResponses('Decoded images.', 'ImagesResponse')),
      '/v1/models/{name}/sample': post('sample', "Images from latents drawn from the decoder's prior with a seed (models whose `operations` list sample).", 'SampleRequest', imageResponses('Sampled images; the seed and latents come back.', 'SampleResponse')),
      '/v1/models/{name}/encode': post('encode', 'Images -> latent codes (the posterior mean for VAEs).', 'ImagesRequest', {
        ...imageResponses('Latent codes.', 'EncodeResponse'),
        200: {
          description: 'Latent codes; with application/octet-stream the raw float32 codes [N, latentSize].',
          headers: { 'X-Aekit-Shape': { description: 'With application/octet-stream: N,latentSize.', schema: { type: 'string' } } },
          content: { ...json(ref('EncodeResponse')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
      }),
      '/v1/models/{name}/reconstruct': post('reconstruct', 'Images -> encoder -> decoder -> images (the posterior mean is decoded).', 'ImagesRequest', imageResponses('Reconstructions.', 'ImagesResponse')),
    },
    components: {
      schemas: {
        ...requestSchemas(),
        ImagesResponse: {
          type: 'object',
          required: ['model', 'shape', 'layout', 'valueRange', 'images'],
          properties: {
            model: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer' }, description: '[N, C, H, W]' },
            layout: { const: 'NCHW' },
            valueRange: { enum: ['unit', 'symmetric'] },
            images: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: 'One flat CHW row per image.' },
          },
        },
        SampleResponse: {
          allOf: [ref('ImagesResponse'), { type: 'object', required: ['seed', 'z'], properties: { seed: { type: 'integer' }, z: { type: 'array', items: { type: 'array', items: { type: 'number' } } } } }],
        },
        EncodeResponse: {
          type: 'object',
          required: ['model', 'latentSize', 'z'],
          properties: {
            model: { type: 'string' },
            latentSize: { type: 'integer' },
            z: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: 'Posterior mean (VAE) or code (AE), one row per image.' },
            logvar: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: 'VAE encoders only.' },
          },
        },
        Model: {
          type: 'object',
          required: ['name', 'family', 'latentSize', 'conditional', 'imageShape', 'valueRange', 'operations', 'artifacts', 'metadata'],
          properties: {
            name: { type: 'string' },
            family: { type: 'string' },
            latentSize: { type: 'integer' },
            conditional: { type: 'boolean' },
            numClasses: { type: 'integer' },
            imageShape: { type: 'object', properties: { channels: { type: 'integer' }, height: { type: 'integer' }, width: { type: 'integer' } } },
            valueRange: { enum: ['unit', 'symmetric'] },
            operations: { type: 'array', items: { enum: [...OPERATIONS] } },
            artifacts: { type: 'object', additionalProperties: { type: 'object', properties: { url: { type: 'string' }, bytes: { type: 'integer' } } } },
            metadata: { type: 'object', description: "Each artifact's aekit metadata, by part." },
          },
        },
        Health: {
          type: 'object',
          required: ['status', 'version', 'uptimeSeconds', 'executionProvider', 'models', 'batching', 'inFlight'],
          properties: {
            status: { enum: ['ok', 'draining'] },
            version: { type: 'string' },
            uptimeSeconds: { type: 'number' },
            executionProvider: {
              type: 'object',
              required: ['requested', 'active'],
              properties: {
                requested: { enum: ['cpu', 'webgpu', 'cuda'] },
                active: { enum: ['cpu', 'webgpu', 'cuda'] },
                fallbackReason: { type: 'string' },
                parity: { type: 'object', properties: { against: { const: 'cpu' }, maxAbsDiff: { type: 'number' }, tolerance: { type: 'number' } } },
                vulkanIcd: { type: 'string' },
                onnxruntime: { type: 'string' },
              },
            },
            models: { type: 'array', items: { type: 'string' } },
            batching: {
              type: 'object',
              required: ['maxBatch', 'maxDelayMs', 'runs', 'requests', 'rows', 'mergedRuns', 'mergedRequests', 'largestRun'],
              properties: Object.fromEntries(['maxBatch', 'maxDelayMs', 'runs', 'requests', 'rows', 'mergedRuns', 'mergedRequests', 'largestRun'].map((k) => [k, { type: 'number' }])),
            },
            inFlight: { type: 'integer' },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['status', 'code', 'message'],
              properties: { status: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' }, where: { type: 'string', description: 'The body field at fault.' } },
            },
          },
        },
      },
    },
  };
}
