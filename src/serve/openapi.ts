/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built for the models this server loaded
 * (their names are the `name` path parameter's enum). The request bodies are the zod schemas the
 * server validates them with (requests.ts); paths and responses are written here, next to the
 * route table (routes.ts) they describe. test/serve checks every documented operation against the
 * running server.
 */
import { z } from 'zod';
import { AEKIT_VERSION } from '../core/version';
import { SERVED_ROLES } from './models';
import type { ServedModel } from './models';
import { ERROR_STATUSES } from './http-error';
import { OPERATIONS } from './operations';
import { REQUEST_SCHEMAS } from './requests';
import { v2Paths, v2Schemas } from './v2/openapi';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

/** Answers any endpoint may give, before its own work: framing, Host, expectations, shutdown. */
const anyEndpoint = {
  400: error('A request without exactly one well-formed Host header (BAD_HOST), or one that is not HTTP (BAD_REQUEST).'),
  403: error('A Host name this server does not answer (HOST_NOT_ALLOWED): on a loopback bind only loopback names and IP addresses, unless --allowed-hosts names it.'),
  408: error('The request headers did not arrive within the request timeout.'),
  417: error('An Expect header other than 100-continue.'),
  431: error('The request line and headers are larger than the server allows.'),
  503: error('The server is shutting down and takes no new requests (SHUTTING_DOWN).'),
};

const imageResponses = (description: string, schema: string) => ({
  ...anyEndpoint,
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
  400: error('Invalid body: the message names the field, what was expected and what came. Also a gzip body that does not decompress (BAD_ENCODING), and the Host faults of any endpoint.'),
  404: error("Unknown model, or a model that does not offer this operation (it lacks the artifact, a prior to sample, or a code output; a classifier offers only /classify): the message says which."),
  406: error('The Accept header asks for a format this endpoint does not produce (q-values honoured).'),
  408: error('The headers or the body did not arrive within the request timeout.'),
  413: error('The body is larger than the server allows, as sent or once decompressed.'),
  415: error('The body is not sent as application/json in UTF-8 (UNSUPPORTED_MEDIA_TYPE), or its Content-Encoding is not gzip (UNSUPPORTED_ENCODING).'),
  422: error('A well-formed input row the model gives non-finite outputs for (OUTPUT_NOT_FINITE); `where` names the row.'),
  503: error('The answer was not ready within the request timeout (REQUEST_TIMEOUT), or the server is shutting down (SHUTTING_DOWN).'),
});

/** Answers of an operation on images that gives a row of numbers per image (codes, class probabilities): JSON, or raw float32 [N, width]. */
const rowResponses = (what: string, schema: string, width: string) => ({
  ...imageResponses(`${what}.`, schema),
  200: {
    description: `${what}; with application/octet-stream the raw float32 rows [N, ${width}].`,
    headers: { 'X-Aekit-Shape': { description: `With application/octet-stream: N,${width}.`, schema: { type: 'string' } } },
    content: { ...json(ref(schema)), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
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
      description:
        'Decoders, encoders and classifiers exported by aekit, run on onnxruntime-node. Concurrent requests to one model are merged into one run (dynamic batching). Under /v2, the v2 inference protocol (KServe Open Inference Protocol, Triton HTTP with its binary tensor data extension), one model per artifact named as in an `aekit export --triton` repository; its errors are {"error": "<message>"}.',
    },
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness, the active execution provider and batching counters.',
          responses: { ...anyEndpoint, 200: { description: 'Serving.', content: json(ref('Health')) } },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Request and batching counters in the Prometheus text format.',
          responses: { ...anyEndpoint, 200: { description: 'Counters.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/models': {
        get: {
          operationId: 'listModels',
          summary: 'Loaded models with the metadata of their artifacts.',
          responses: { ...anyEndpoint, 200: { description: 'Models.', content: json({ type: 'object', required: ['models'], properties: { models: { type: 'array', items: ref('Model') } } }) } },
        },
      },
      '/v1/models/{name}': {
        get: { operationId: 'getModel', summary: 'One model.', parameters: [nameParameter], responses: { ...anyEndpoint, 200: { description: 'The model.', content: json(ref('Model')) }, 404: error('Unknown model.') } },
      },
      '/v1/models/{name}/artifacts/{part}.onnx': {
        get: {
          operationId: 'getArtifact',
          summary: 'The ONNX artifact itself (what the demo page and aekit-web load).',
          parameters: [nameParameter, { name: 'part', in: 'path', required: true, schema: { type: 'string', enum: [...SERVED_ROLES] } }],
          responses: { ...anyEndpoint, 200: { description: 'ONNX bytes.', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, 404: error('Unknown model or part.') },
        },
      },
      '/v1/models/{name}/decode': post('decode', 'Latents -> images.', 'DecodeRequest', imageResponses('Decoded images.', 'ImagesResponse')),
      '/v1/models/{name}/sample': post('sample', "Images from latents drawn from the decoder's prior with a seed (models whose `operations` list sample).", 'SampleRequest', imageResponses('Sampled images; the seed and latents come back.', 'SampleResponse')),
      '/v1/models/{name}/encode': post('encode', 'Images -> latent codes (the posterior mean for VAEs).', 'ImagesRequest', rowResponses('Latent codes', 'EncodeResponse', 'latentSize')),
      '/v1/models/{name}/reconstruct': post('reconstruct', 'Images -> encoder -> decoder -> images (the posterior mean is decoded).', 'ImagesRequest', imageResponses('Reconstructions.', 'ImagesResponse')),
      '/v1/models/{name}/classify': post('classify', 'Images -> class probabilities and the most probable class (classifiers, whose `operations` list classify).', 'ImagesRequest', rowResponses('Class probabilities', 'ClassifyResponse', 'numClasses')),
      ...v2Paths(models),
    },
    components: {
      schemas: {
        ...requestSchemas(),
        ...v2Schemas(),
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
        ClassifyResponse: {
          type: 'object',
          required: ['model', 'numClasses', 'label', 'probabilities'],
          properties: {
            model: { type: 'string' },
            numClasses: { type: 'integer' },
            label: { type: 'array', items: { type: 'integer' }, description: 'The most probable class of each image.' },
            probabilities: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: 'One row of numClasses probabilities per image (the softmax of the logits), summing to 1.' },
            features: { type: 'array', items: { type: 'array', items: { type: 'number' } }, description: "Classifiers with a feature output (aekit's: the penultimate layer, FID's features): one row per image." },
          },
        },
        Model: {
          type: 'object',
          required: ['name', 'family', 'conditional', 'imageShape', 'valueRange', 'operations', 'artifacts', 'metadata'],
          properties: {
            name: { type: 'string' },
            family: { type: 'string' },
            latentSize: { type: 'integer', description: 'Absent for a classifier, which has no latent code.' },
            conditional: { type: 'boolean' },
            numClasses: { type: 'integer', description: 'Classes of a conditional model, or the classes a classifier scores.' },
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
                parity: { type: 'object', properties: { against: { const: 'cpu' }, maxAbsDiff: { type: 'number' }, tolerance: { type: 'object', properties: { rtol: { type: 'number' }, atol: { type: 'number' } } } } },
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
              properties: {
                status: { type: 'integer', description: 'The HTTP status again.' },
                code: { enum: Object.keys(ERROR_STATUSES), description: 'Stable for clients to switch on; each code comes with one status (REQUEST_TIMEOUT: 408 before the request arrived, 503 after).' },
                message: { type: 'string', description: 'What was expected and what came.' },
                where: { type: 'string', description: 'The body field at fault.' },
              },
            },
          },
        },
      },
    },
  };
}
