/**
 * fast-check arbitraries for fuzzing `aekit serve`, built from its OpenAPI document: request bodies
 * from the request-body JSON Schemas (the zod schemas the server validates with), paths from the
 * path templates and the models' names, and headers, framing and whole raw requests from pools of
 * the values that matter at the protocol's edges. Array lengths are drawn partly from the models'
 * own sizes (latent sizes, pixels per image) so that a good share of the requests is valid and
 * reaches onnxruntime.
 */
import fc from 'fast-check';

/** The part of JSON Schema the request schemas use. */
export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  minItems?: number;
  minimum?: number;
  maximum?: number;
}

/** What the arbitraries need from the server: its document and its models' sizes. */
export interface FuzzTarget {
  schemas: Record<string, Schema>;
  /** Model names, plus names that are not models. */
  names: string[];
  /** Model names of the v2 protocol's paths (`<run>-<part>`). */
  v2Names: string[];
  /** Lengths of innermost lists that make a body valid for some model (latent sizes, pixels per image). */
  rowLengths: number[];
}

/** Numbers as a client may send them: mostly ordinary, some at the edges of float32 and float64. */
function numbers(tame: boolean): fc.Arbitrary<number> {
  if (tame) return fc.double({ min: -3, max: 3, noNaN: true });
  return fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(3.4028234663852886e38, -3.4e38, 1e38, 3.5e38, 1e300, 5e-324, -0) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

/**
 * Values of `schema`. `tame`: every number ordinary and every unconstrained value a pixel in
 * [0, 1], so that bodies with the right lengths are valid; otherwise anything the schema allows
 * and, where it allows anything, any JSON.
 */
export function fromSchema(schema: Schema, target: FuzzTarget, tame: boolean): fc.Arbitrary<unknown> {
  if (schema.$ref) return fromSchema(target.schemas[schema.$ref.replace('#/components/schemas/', '')], target, tame);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => fromSchema(s, target, tame)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, fromSchema(s, target, tame)]));
      return fc.record(model, { requiredKeys: schema.required ?? [] });
    }
    case 'array': {
      const items = schema.items ?? {};
      const min = schema.minItems ?? 0;
      // Lists of lists are requests' rows, lists of objects (v2 tensors) a request's parts: a few (sometimes
      // past the row limit); innermost lists of values take the models' sizes.
      const innermost = items.type !== 'array' && items.type !== 'object';
      const lengths = innermost
        ? fc.oneof(fc.constantFrom(...target.rowLengths), fc.integer({ min, max: min + 6 }))
        : fc.oneof({ weight: 8, arbitrary: fc.integer({ min: Math.max(min, 1), max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min, max: 20 }) });
      const item = fromSchema(items, target, tame);
      return lengths.chain((n) => fc.array(item, { minLength: n, maxLength: n }));
    }
    case 'integer': {
      const lo = schema.minimum ?? -(2 ** 31);
      const hi = Math.min(schema.maximum ?? 2 ** 31, Number.MAX_SAFE_INTEGER);
      return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: lo, max: Math.min(hi, lo + 12) }) }, { weight: 1, arbitrary: fc.integer({ min: lo, max: Math.min(hi, 2 ** 31 - 1) }) });
    }
    case 'number':
      return numbers(tame);
    case 'string':
      return fc.string({ maxLength: 12 });
    case 'boolean':
      return fc.boolean();
    default:
      return tame ? fc.double({ min: 0, max: 1, noNaN: true }) : fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
  }
}

type Path = (string | number)[];

function pathsOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (out.length > 200) return out;
  if (Array.isArray(value)) value.slice(0, 8).forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

/** One change to a parsed body at a random place: replace, delete, wrap in a list, unwrap, add a field. */
const structuralMutation = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('replace', 'delete', 'wrap', 'unwrap', 'addField'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, '', '1', true, [], {}, -1, 0.5, 1e38, 2 ** 53)),
});

function mutate(body: unknown, m: { pick: number; kind: string; value: unknown }): unknown {
  const copy = structuredClone(body);
  const paths = pathsOf(copy);
  const path = paths[m.pick % paths.length];
  if (path.length === 0) return m.kind === 'wrap' ? [copy] : m.kind === 'replace' ? m.value : copy;
  const parent = path.slice(0, -1).reduce<any>((v, k) => v[k], copy);
  const key = path[path.length - 1];
  if (m.kind === 'replace') parent[key] = m.value;
  else if (m.kind === 'delete') Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key];
  else if (m.kind === 'wrap') parent[key] = [parent[key]];
  else if (m.kind === 'unwrap') parent[key] = Array.isArray(parent[key]) ? parent[key][0] : parent[key];
  else if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) parent.unexpected = m.value;
  return copy;
}

/** Changes to the body's text that JSON.stringify cannot make: numbers past float64, literals JSON lacks, cuts, deep nesting. */
const textMutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('number', 'truncate', 'insert', 'bom', 'trailing', 'duplicateKey', 'deep'),
  token: fc.constantFrom('1e999', '-1e999', 'NaN', 'Infinity', '1e39', '-3.5e38', '1E+400', '0x10', '01', '.5', '"1"', 'null', 'true', '[]', '{}'),
  char: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', 'é', '\ud800'),
});

function mutateText(text: string, m: { at: number; kind: string; token: string; char: string }): string {
  const at = m.at % (text.length + 1);
  switch (m.kind) {
    case 'number': {
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi)];
      if (numbers.length === 0) return text + m.token;
      const hit = numbers[m.at % numbers.length];
      return text.slice(0, hit.index) + m.token + text.slice(hit.index! + hit[0].length);
    }
    case 'truncate':
      return text.slice(0, at);
    case 'insert':
      return text.slice(0, at) + m.char + text.slice(at);
    case 'bom':
      return `\ufeff${text}`;
    case 'trailing':
      return `${text} ${m.token}`;
    case 'duplicateKey':
      return text.startsWith('{"') ? `{"${text.slice(2, text.indexOf('"', 2))}": ${m.token}, ${text.slice(1)}` : text;
    default:
      return `{"z": ${'['.repeat(2000 + (m.at % 3000))}${']'.repeat(2000 + (m.at % 3000))}}`;
  }
}

/** A request body's text: valid by the schema, mutated, any JSON, or no JSON at all. */
export function bodyText(schema: Schema, target: FuzzTarget): fc.Arbitrary<string> {
  const conforming = (tame: boolean) => fromSchema(schema, target, tame);
  return fc.oneof(
    { weight: 4, arbitrary: fc.boolean().chain(conforming).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: fc.tuple(conforming(false), structuralMutation).map(([v, m]) => JSON.stringify(mutate(v, m)) ?? '') },
    { weight: 2, arbitrary: fc.tuple(conforming(false), textMutation).map(([v, m]) => mutateText(JSON.stringify(v), m)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  );
}

/** A path from a template: `{name}` from the models (and names that are not), `{part}` from the artifacts (and others). */
export function pathFrom(template: string, target: FuzzTarget): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...target.names) },
    { weight: 1, arbitrary: fc.constantFrom('nope', '..', '%2e%2e', 'vae%2F..', '%ZZ', '%00', '%C3%BC', 'a'.repeat(300), 'VAE') },
  );
  const part = fc.constantFrom('decoder', 'encoder', 'classifier', '..%2Fdecoder');
  const v2Name = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...target.v2Names) }, { weight: 1, arbitrary: fc.constantFrom('vae', 'nope-decoder', '%2e%2e', '%ZZ', 'a'.repeat(300)) });
  const version = fc.oneof({ weight: 8, arbitrary: fc.constant('1') }, { weight: 1, arbitrary: fc.constantFrom('2', '0', '01', '-1', 'latest', '%20') });
  const suffix = fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '?x=1', '/extra', '%20', '//') });
  return fc
    .tuple(name, part, v2Name, version, suffix)
    .map(([n, p, m, v, s]) => template.replace('{name}', n).replace('{part}', p).replace('{model_name}', m).replace('{model_version}', v) + s);
}

/** Headers at the protocol's edges, mostly ordinary. `undefined`: leave the header out; a Host of 'default': the server's address. */
export const headerArbitraries = {
  accept: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom('application/json', 'image/png', 'application/octet-stream', '*/*', 'image/*', 'application/*', 'text/csv', 'text/html', 'garbage'), fc.option(fc.constantFrom('0', '0.001', '0.5', '1', '1.000', '2', '-1', 'x'))), { minLength: 1, maxLength: 3 })
        .map((ranges) => ranges.map(([type, q]) => (q === null ? type : `${type};q=${q}`)).join(', ')),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
  ),
  contentType: fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/json') },
    { weight: 3, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json; charset=UTF-8', 'application/vnd.aekit+json', 'application/octet-stream', 'image/png', ';;', undefined) },
  ),
  encoding: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.constantFrom('gzip', 'gzip (not compressed)', 'br', 'identity', 'deflate', 'gzip, gzip', 'x-gzip') }),
  host: fc.oneof({ weight: 10, arbitrary: fc.constant('default') }, { weight: 3, arbitrary: fc.constantFrom('localhost', 'LOCALHOST:1', '[::1]:8080', 'evil.example', 'evil.example:80', 'a b', '', 'x.localhost', '10.1.2.3:80') }),
  expect: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('100-continue', 'tea') }),
};

/** How a raw request frames its body. The last two make the server wait for the request timeout. */
export type Framing = 'length' | 'chunked' | 'none' | 'length and chunked' | 'negative length' | 'two lengths' | 'unknown coding' | 'bad chunk' | 'long length' | 'cut chunk';

/** A whole request as bytes, at the level node:http parses: request line, header lines, framing. */
export function rawRequest(paths: fc.Arbitrary<string>, bodies: fc.Arbitrary<string>): fc.Arbitrary<{ bytes: Buffer; method: string }> {
  const method = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'HEAD') }, { weight: 2, arbitrary: fc.constantFrom('PUT', 'OPTIONS', 'DELETE', 'TRACE', 'PATCH', 'get', 'G ET', '', 'PRI', 'M-SEARCH') });
  const target = fc.oneof({ weight: 8, arbitrary: paths }, { weight: 2, arbitrary: fc.constantFrom('*', 'http://127.0.0.1/healthz', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '//healthz', '/healthz#x', `/${'a'.repeat(20_000)}`, '/ü', '/a b', '') });
  const version = fc.oneof({ weight: 8, arbitrary: fc.constant('HTTP/1.1') }, { weight: 2, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/1', 'http/1.1', 'HTTP/1.1 x', '') });
  const host = fc.oneof({ weight: 8, arbitrary: fc.constant(['Host: 127.0.0.1']) }, { weight: 2, arbitrary: fc.constantFrom([], ['Host: 127.0.0.1', 'Host: 127.0.0.1'], ['Host: evil.example'], ['Host:'], ['Host: a:b:c']) });
  const extra = fc.array(
    fc.constantFrom('Content-Type: application/json', 'Content-Type: text/plain', 'Accept: image/png', 'Accept: application/json;q=0', 'Expect: 100-continue', 'Expect: tea', 'X-Bad Name: 1', 'NoColon', ' folded: continuation', 'X-Nul: a\u0000b', `X-Big: ${'b'.repeat(17_000)}`, 'Content-Encoding: gzip', 'Upgrade: websocket', 'Connection: Upgrade'),
    { maxLength: 3 },
  );
  const framing = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<Framing>('length', 'chunked', 'none') },
    { weight: 3, arbitrary: fc.constantFrom<Framing>('length and chunked', 'negative length', 'two lengths', 'unknown coding', 'bad chunk') },
    { weight: 1, arbitrary: fc.constantFrom<Framing>('long length', 'cut chunk') },
  );
  const newline = fc.oneof({ weight: 9, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constant('\n') });
  return fc.record({ method, target, version, host, extra, framing, newline, body: bodies }).map((r) => {
    const body = Buffer.from(r.body);
    const framingLines: Record<Framing, string[]> = {
      length: [`Content-Length: ${body.length}`],
      chunked: ['Transfer-Encoding: chunked'],
      none: [],
      'length and chunked': [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'],
      'negative length': ['Content-Length: -1'],
      'two lengths': [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`],
      'unknown coding': ['Transfer-Encoding: gzip'],
      'bad chunk': ['Transfer-Encoding: chunked'],
      'long length': [`Content-Length: ${body.length + 10}`],
      'cut chunk': ['Transfer-Encoding: chunked'],
    };
    const head = [`${r.method} ${r.target} ${r.version}`.trimEnd(), ...r.host, ...r.extra, ...framingLines[r.framing], 'Connection: close'].join(r.newline) + r.newline + r.newline;
    let payload: Buffer = Buffer.alloc(0);
    if (r.framing === 'chunked') payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    else if (r.framing === 'bad chunk') payload = Buffer.concat([Buffer.from('zz\r\n'), body]);
    else if (r.framing === 'cut chunk') payload = Buffer.concat([Buffer.from(`${(body.length + 5).toString(16)}\r\n`), body]);
    else if (r.framing !== 'none') payload = body;
    return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]), method: r.method };
  });
}
