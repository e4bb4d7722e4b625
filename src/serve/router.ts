/**
 * A small route table: method + path pattern (`/v1/models/:name/decode`) -> handler. Handlers see
 * a parsed request and return a {@link Reply}; reading sockets and writing responses is the HTTP
 * front end's (http-frontend.ts), so a handler never touches node:http.
 */
import { HttpError } from './http-error';

/** Methods a route answers (a GET route also answers HEAD). */
export type Method = 'GET' | 'POST';

/** What a handler sees of a request. */
export interface RouteRequest {
  /** The path's `:name` parameters, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The Accept header. */
  readonly accept?: string;
  /** A request header by its lower-case name (repeated headers joined with ', '). */
  header(name: string): string | undefined;
  /** Read the body and parse it as JSON (refusing other content types and bodies over the limit). */
  json(): Promise<unknown>;
  /**
   * Read the body as bytes, within the same size, time and encoding limits as {@link json}.
   * `checkType` sees the Content-Type before a byte is read and refuses it by throwing.
   */
  bytes(checkType: (contentType: string | undefined) => void): Promise<Buffer>;
}

/** A response: a body in memory, or a file streamed from disk. */
export type Reply =
  | { status: number; contentType: string; body: string | Buffer; headers?: Readonly<Record<string, string>> }
  | { file: string; headers: Readonly<Record<string, string>> };

/** One endpoint. */
export interface Route {
  method: Method;
  /** `/`-separated segments; `:x` matches any one segment and is passed as `params.x`. */
  path: string;
  /** The `route` label of the request counters (`aekit_requests_total`); several routes may share one. */
  name: string;
  handle(request: RouteRequest): Reply | Promise<Reply>;
}

/**
 * How the paths under one first segment write their errors, when not in the server's own shape
 * (the v2 inference protocol's `{"error": "..."}` under `/v2`). Every layer of the front end uses
 * it for those paths: routes, body limits, Host checks, timeouts.
 */
export interface ErrorDialect {
  /** The first path segment it covers, e.g. `v2`. */
  segment: string;
  /** The body and extra headers of an error response. */
  reply(error: HttpError): { body: string; headers: Readonly<Record<string, string>> };
}

/** What {@link Router.match} found for a method and path. */
export type RouteMatch = { route: Route; params: Record<string, string> } | { route: Route; notAllowed: HttpError } | { notFound: HttpError };

interface Compiled {
  route: Route;
  segments: string[];
}

function segmentsOf(pathname: string): string[] {
  // `/v1/models/` is `/v1/models`: one trailing slash is not a segment.
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  return trimmed.split('/').slice(1);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Routes compiled once; {@link match} finds the route of a request or the error to answer. */
export class Router {
  private readonly compiled: Compiled[];

  constructor(
    routes: readonly Route[],
    /** The error for a path no route has (e.g. a 404 pointing at the API description). */
    private readonly notFound: (method: string, pathname: string) => HttpError,
    private readonly dialects: readonly ErrorDialect[] = [],
  ) {
    this.compiled = routes.map((route) => ({ route, segments: segmentsOf(route.path) }));
  }

  /** The error dialect of `pathname` (query string allowed), or undefined for the server's own error shape. */
  dialectOf(pathname: string): ErrorDialect | undefined {
    const first = /^\/([^/?#]*)/.exec(pathname)?.[1];
    return this.dialects.find((d) => d.segment === first);
  }

  /** The route for `method` and `pathname` with its parameters, a 405 when only other methods have the path, or a 404. */
  match(method: string, pathname: string): RouteMatch {
    const segments = segmentsOf(pathname);
    let other: Route | undefined;
    for (const { route, segments: pattern } of this.compiled) {
      if (pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const fits = pattern.every((p, i) => {
        if (p.startsWith(':')) params[p.slice(1)] = decodeSegment(segments[i]);
        else if (p !== segments[i]) return false;
        return true;
      });
      if (!fits) continue;
      if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { route, params };
      other ??= route;
    }
    if (other) return { route: other, notAllowed: methodNotAllowed(method, other.method) };
    return { notFound: this.notFound(method, pathname) };
  }
}

function methodNotAllowed(actual: string, allowed: Method): HttpError {
  const error = new HttpError(405, 'METHOD_NOT_ALLOWED', `${actual} is not allowed here; use ${allowed}`);
  error.headers = { Allow: allowed === 'GET' ? 'GET, HEAD' : allowed };
  return error;
}
