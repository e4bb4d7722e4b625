/**
 * The v2 inference protocol's HTTP endpoints (KServe's Open Inference Protocol; Triton's HTTP API
 * with its binary tensor data extension), beside the server's own API: health, server and model
 * metadata, model readiness and inference, with the optional `/versions/{v}` of each model path.
 * Errors under `/v2` have the protocol's body `{"error": "..."}`, from every layer of the server
 * ({@link V2_ERRORS}); the stable code the server's own errors carry is in `X-Aekit-Error-Code`.
 */
import { AEKIT_VERSION } from '../../core/version';
import type { RequestLimits } from '../codec';
import { parseJsonBody } from '../http-frontend';
import { badField, HttpError } from '../http-error';
import type { Inference } from '../operations';
import { jsonReply } from '../replies';
import type { ErrorDialect, Route, RouteRequest } from '../router';
import { INFERENCE_HEADER, inferReply, parseInfer } from './infer';
import { modelMetadata, v2Models } from './models';
import type { V2Model } from './models';

/** The extensions `GET /v2` lists. */
export const V2_EXTENSIONS = Object.freeze(['binary_tensor_data']);

/** Header with the error's code (the protocol's error body has only the message). */
export const ERROR_CODE_HEADER = 'X-Aekit-Error-Code';

/** Errors under `/v2`: `{"error": "<message>"}`, the protocol's error object, with the code in a header. */
export const V2_ERRORS: ErrorDialect = Object.freeze({
  segment: 'v2',
  reply: (error: HttpError) => ({ body: JSON.stringify({ error: error.message }), headers: { [ERROR_CODE_HEADER]: error.code } }),
});

/** The endpoints, for the 404 of a path under `/v2` that none has. */
const V2_PATHS = 'GET /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{version}][/ready]; POST /v2/models/{name}[/versions/{version}]/infer';

/** The 404 for a path under `/v2` no route has. */
export function v2NoRoute(method: string, pathname: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `no route ${method} ${pathname}; the v2 protocol's endpoints: ${V2_PATHS} (see /openapi.json)`);
}

/** What the v2 routes need. */
export interface V2Deps {
  inference: Inference;
  limits: RequestLimits;
}

/** The v2 endpoints over `deps.inference`'s models. */
export function v2Routes(deps: V2Deps): Route[] {
  const models = v2Models(deps.inference.models);
  const byName = new Map(models.map((m) => [m.name, m]));
  // Fixed for the server's life: serialised once.
  const serverJson = JSON.stringify({ name: 'aekit', version: AEKIT_VERSION, extensions: V2_EXTENSIONS });
  const metadataJson = new Map(models.map((m) => [m.name, JSON.stringify(modelMetadata(m))]));

  /** The model (and version) of a path; 404 naming what there is. */
  const model = ({ params }: RouteRequest): V2Model => {
    const found = byName.get(params.model);
    if (!found) throw new HttpError(404, 'UNKNOWN_MODEL', `no model '${params.model}'; v2 models (named as in an \`aekit export --triton\` repository, <run>-<part>): ${models.map((m) => m.name).join(', ')}`);
    if (params.version !== undefined && params.version !== found.version) {
      throw new HttpError(404, 'NOT_FOUND', `model '${found.name}' has no version '${params.version}'; its versions: ${found.version}`);
    }
    return found;
  };

  const infer = async (request: RouteRequest) => {
    const target = model(request);
    const declared = request.header(INFERENCE_HEADER.toLowerCase());
    let body: unknown;
    let binary: Buffer | undefined;
    if (declared === undefined) {
      body = await request.json();
    } else {
      // Any Content-Type: the extension's clients send octet-stream, or none. Browsers preflight a
      // request with this header, so a cross-site page cannot send one without the server's consent.
      let jsonLength = 0;
      const bytes = await request.bytes(() => {
        jsonLength = headerLength(declared);
      });
      if (jsonLength > bytes.length) throw badField('INVALID_BODY', INFERENCE_HEADER, `${jsonLength} bytes of JSON, but the body has ${bytes.length}`);
      body = parseJsonBody(bytes.subarray(0, jsonLength), `the JSON part of the body (its first ${INFERENCE_HEADER} = ${jsonLength} bytes)`);
      binary = bytes.subarray(jsonLength);
    }
    const input = parseInfer(body, binary, target, deps.limits);
    return inferReply(target, input, await deps.inference.run(target.artifact, input.feeds, input.rows));
  };

  const route = (method: Route['method'], path: string, name: string, handle: Route['handle']): Route => ({ method, path, name, handle });
  const ready = (request: RouteRequest) => jsonReply(JSON.stringify({ name: model(request).name, ready: true }));
  const metadata = (request: RouteRequest) => jsonReply(metadataJson.get(model(request).name)!);
  return [
    route('GET', '/v2', 'v2_server', () => jsonReply(serverJson)),
    // Answered only while serving: a draining server answers 503 before any route runs.
    route('GET', '/v2/health/live', 'v2_health', () => jsonReply('{"live":true}')),
    route('GET', '/v2/health/ready', 'v2_health', () => jsonReply('{"ready":true}')),
    route('GET', '/v2/models/:model', 'v2_model', metadata),
    route('GET', '/v2/models/:model/versions/:version', 'v2_model', metadata),
    route('GET', '/v2/models/:model/ready', 'v2_ready', ready),
    route('GET', '/v2/models/:model/versions/:version/ready', 'v2_ready', ready),
    route('POST', '/v2/models/:model/infer', 'v2_infer', infer),
    route('POST', '/v2/models/:model/versions/:version/infer', 'v2_infer', infer),
  ];
}

/**
 * The value of {@link INFERENCE_HEADER}: a whole number of bytes above 0.
 * @throws HttpError 400 saying what came.
 */
function headerLength(value: string): number {
  if (!/^\d{1,15}$/.test(value.trim())) throw new HttpError(400, 'INVALID_BODY', `${INFERENCE_HEADER}: expected the length in bytes of the JSON that starts the body, got '${value}'`);
  const length = Number(value);
  if (length === 0) throw new HttpError(400, 'INVALID_BODY', `${INFERENCE_HEADER}: 0 (a body of one raw binary tensor) is not supported; start the body with the JSON inference request and give its length`);
  return length;
}
