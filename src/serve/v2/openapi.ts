/**
 * The v2 protocol's part of `/openapi.json`: its paths (each model path also with
 * `/versions/{model_version}`), its response objects and its error object, and the inference
 * request's JSON Schema from the zod schema the server checks it with (schema.ts).
 */
import { z } from 'zod';
import type { ServedModel } from '../models';
import { v2Models } from './models';
import { V2_EXTENSIONS } from './routes';
import { InferRequestSchema } from './schema';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('V2Error')) });

/** Answers any v2 endpoint may give, before its own work (the server's own endpoints give them too). */
const anyEndpoint = {
  400: error('A request without exactly one well-formed Host header.'),
  403: error('A Host name this server does not answer (see --allowed-hosts).'),
  408: error('The request headers did not arrive within the request timeout.'),
  417: error('An Expect header other than 100-continue.'),
  431: error('The request line and headers are larger than the server allows.'),
  503: error('The server is shutting down and takes no new requests (it is then neither live nor ready).'),
};

const tensorSchema = (description: string): Schema => ({
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' }, description } },
});

/** The v2 request and response schemas, by their name in the document's components. */
export function v2Schemas(): Record<string, Schema> {
  const { $schema: _dialect, ...inferRequest } = z.toJSONSchema(InferRequestSchema, { io: 'input' });
  return {
    InferRequest: inferRequest,
    V2ServerMetadata: { type: 'object', required: ['name', 'version', 'extensions'], properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } } },
    V2Live: { type: 'object', required: ['live'], properties: { live: { type: 'boolean' } } },
    V2Ready: { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' } } },
    V2ModelReady: { type: 'object', required: ['name', 'ready'], properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
    V2ModelMetadata: {
      type: 'object',
      required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
      properties: {
        name: { type: 'string' },
        versions: { type: 'array', items: { type: 'string' } },
        platform: { const: 'onnxruntime_onnx' },
        inputs: { type: 'array', items: tensorSchema('Batch first; -1: any size.') },
        outputs: { type: 'array', items: tensorSchema('Batch first; -1: any size.') },
      },
    },
    InferResponse: {
      type: 'object',
      required: ['model_name', 'model_version', 'outputs'],
      properties: {
        model_name: { type: 'string' },
        model_version: { type: 'string' },
        id: { type: 'string', description: "The request's id, when it had one." },
        outputs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'datatype', 'shape'],
            properties: {
              name: { type: 'string' },
              datatype: { type: 'string' },
              shape: { type: 'array', items: { type: 'integer' } },
              data: { type: 'array', items: { type: 'number' }, description: 'Flat, row-major (JSON outputs).' },
              parameters: { type: 'object', properties: { binary_data_size: { type: 'integer' } }, description: 'Binary outputs: their size in bytes; the bytes follow the JSON.' },
            },
          },
        },
      },
    },
    V2Error: {
      type: 'object',
      required: ['error'],
      properties: { error: { type: 'string', description: 'What was expected and what came. The stable code (the Error schema\'s codes) is in the X-Aekit-Error-Code header.' } },
    },
  };
}

/** The v2 paths for a server with these models. */
export function v2Paths(models: readonly ServedModel[]): Record<string, unknown> {
  const names = v2Models(models).map((m) => m.name);
  const modelParameter = { name: 'model_name', in: 'path', required: true, description: 'v2 model name: <run>-<part>, as in an `aekit export --triton` repository.', schema: { type: 'string', enum: names } };
  const versionParameter = { name: 'model_version', in: 'path', required: true, description: 'The one version, 1.', schema: { type: 'string', enum: ['1'] } };
  const ok = (description: string, schema: string) => ({ 200: { description, content: json(ref(schema)) } });
  const unknown = { 404: error('Unknown model or version.') };
  const get = (operationId: string, summary: string, responses: Record<string, unknown>, parameters: unknown[] = []) => ({
    get: { operationId, summary, ...(parameters.length ? { parameters } : {}), responses: { ...anyEndpoint, ...responses } },
  });
  const inferResponses = {
    ...anyEndpoint,
    200: {
      description: 'The outputs: JSON, or with binary outputs the JSON followed by their bytes.',
      headers: { 'Inference-Header-Content-Length': { description: 'With binary outputs: the length of the JSON part.', schema: { type: 'string' } } },
      content: { ...json(ref('InferResponse')), 'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'InferResponse JSON, then the binary outputs (little-endian) in order.' } } },
    },
    400: error('A request that does not fit the model: the message names the field, what was expected and what came.'),
    404: error('Unknown model or version.'),
    408: error('The headers or the body did not arrive within the request timeout.'),
    413: error('The body is larger than the server allows, as sent or once decompressed.'),
    415: error('A JSON body not sent as application/json in UTF-8 (requests with Inference-Header-Content-Length may have any type), or a Content-Encoding other than gzip.'),
    422: error('A well-formed batch row the model gives non-finite outputs for (OUTPUT_NOT_FINITE).'),
    503: error('The answer was not ready within the request timeout, or the server is shutting down.'),
  };
  const infer = (operationId: string, parameters: unknown[]) => ({
    post: {
      operationId,
      summary: "Inference on one artifact (the Open Inference Protocol's infer; Triton's binary tensor data extension).",
      parameters,
      requestBody: {
        required: true,
        content: {
          ...json(ref('InferRequest')),
          'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'With Inference-Header-Content-Length: the InferRequest JSON of that length, then the binary inputs in order.' } },
        },
      },
      responses: inferResponses,
    },
  });
  return {
    '/v2': get('v2ServerMetadata', `Server name, version and extensions (${V2_EXTENSIONS.join(', ')}).`, ok('Server metadata.', 'V2ServerMetadata')),
    '/v2/health/live': get('v2Live', 'Liveness (200 while serving).', ok('Live.', 'V2Live')),
    '/v2/health/ready': get('v2Ready', 'Readiness: every model is loaded (200 while serving).', ok('Ready.', 'V2Ready')),
    '/v2/models/{model_name}': get('v2ModelMetadata', 'Model metadata: versions, platform, input and output tensors.', { ...ok('The model.', 'V2ModelMetadata'), ...unknown }, [modelParameter]),
    '/v2/models/{model_name}/versions/{model_version}': get('v2ModelVersionMetadata', 'Model metadata of a version.', { ...ok('The model.', 'V2ModelMetadata'), ...unknown }, [modelParameter, versionParameter]),
    '/v2/models/{model_name}/ready': get('v2ModelReady', 'Model readiness.', { ...ok('Ready.', 'V2ModelReady'), ...unknown }, [modelParameter]),
    '/v2/models/{model_name}/versions/{model_version}/ready': get('v2ModelVersionReady', 'Readiness of a version.', { ...ok('Ready.', 'V2ModelReady'), ...unknown }, [modelParameter, versionParameter]),
    '/v2/models/{model_name}/infer': infer('v2Infer', [modelParameter]),
    '/v2/models/{model_name}/versions/{model_version}/infer': infer('v2VersionInfer', [modelParameter, versionParameter]),
  };
}
