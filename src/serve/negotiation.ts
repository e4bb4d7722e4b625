/**
 * Content negotiation in both directions: which response format an `Accept` header asks for
 * (RFC 9110 §12.5.1, q-values honoured), and whether a request body's `Content-Type` and
 * `Content-Encoding` are ones the server reads. Request bodies must say `application/json`: the
 * types a cross-site page can send without a CORS preflight (`text/plain`, forms, no type at all)
 * are refused, so a web page cannot make a visitor's browser post to a local server.
 */
import { HttpError } from './http-error';

/** Response encodings of images (and latents). */
export type ResponseFormat = 'json' | 'octet' | 'png';

/** Media type of each {@link ResponseFormat}. */
export const MEDIA_TYPES: Readonly<Record<ResponseFormat, string>> = Object.freeze({
  json: 'application/json',
  octet: 'application/octet-stream',
  png: 'image/png',
});

/** One media range of an Accept header. */
interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  /** Position in the header: among equals, the client's order decides. */
  order: number;
}

/** The media ranges of an Accept header; ranges with an unreadable q-value are left out. */
function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  accept.split(',').forEach((part, order) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const slash = range.indexOf('/');
    if (slash <= 0) return;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      // RFC 9110 qvalue: 0 to 1 with at most three decimals.
      if (name === 'q') q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value ?? '') ? Number(value) : NaN;
    }
    if (!Number.isNaN(q)) ranges.push({ type: range.slice(0, slash), subtype: range.slice(slash + 1), q, order });
  });
  return ranges;
}

/** How specifically `range` matches `mediaType` (2 exact, 1 `type/*`, 0 `*\/*`), or -1. */
function specificity(range: MediaRange, mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  if (range.type === type && range.subtype === subtype) return 2;
  if (range.type === type && range.subtype === '*') return 1;
  if (range.type === '*' && range.subtype === '*') return 0;
  return -1;
}

/**
 * The format the client prefers among those offered: each format takes the q-value of the most
 * specific range that matches it (so `image/png;q=0` refuses PNG even under `*\/*`), the highest
 * q wins, then the range listed first, then the endpoint's own order (JSON first). No header means
 * JSON.
 *
 * @throws HttpError 406 listing the offered media types when every offered format has q = 0.
 */
export function negotiate(accept: string | undefined, offered: readonly ResponseFormat[]): ResponseFormat {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = parseAccept(accept);
  let best: { format: ResponseFormat; q: number; order: number } | undefined;
  for (const format of offered) {
    let match: MediaRange | undefined;
    let matchSpecificity = -1;
    for (const range of ranges) {
      const s = specificity(range, MEDIA_TYPES[format]);
      if (s > matchSpecificity) [match, matchSpecificity] = [range, s];
    }
    if (!match || match.q === 0) continue;
    if (!best || match.q > best.q || (match.q === best.q && match.order < best.order)) best = { format, q: match.q, order: match.order };
  }
  if (best) return best.format;
  throw new HttpError(406, 'NOT_ACCEPTABLE', `cannot answer with '${accept}'; this endpoint returns: ${offered.map((f) => MEDIA_TYPES[f]).join(', ')}`);
}

/**
 * Check that a request body is JSON in UTF-8 (RFC 8259 allows nothing else).
 * @throws HttpError 415 UNSUPPORTED_MEDIA_TYPE saying what to send.
 */
export function checkJsonContentType(contentType: string | undefined): void {
  const [type, ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const json = type === 'application/json' || /^application\/[\w.-]+\+json$/.test(type);
  if (!json) {
    const got = type === '' ? 'no Content-Type' : `Content-Type '${type}'`;
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `request bodies are JSON; got ${got}: send Content-Type: application/json`);
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `request bodies are UTF-8 JSON; got charset '${charset}'`);
  }
}

/** Request body encodings the server decodes. */
export type BodyEncoding = 'identity' | 'gzip';

/**
 * The encoding of a request body from its Content-Encoding header.
 * @throws HttpError 415 UNSUPPORTED_ENCODING (with `Accept-Encoding`, RFC 7694) for anything else.
 */
export function bodyEncoding(contentEncoding: string | undefined): BodyEncoding {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  const error = new HttpError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding '${contentEncoding}' is not supported; send the body as is or gzip-compressed (Content-Encoding: gzip)`);
  error.headers = { 'Accept-Encoding': 'gzip' };
  throw error;
}
