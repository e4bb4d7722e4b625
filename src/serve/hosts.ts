/**
 * Which `Host` headers the server answers. A server bound to loopback trusts that only this machine
 * reaches it, but a web page can point a DNS name of its own at 127.0.0.1 (DNS rebinding) and then
 * read the answers as same-origin; the Host header still carries the page's name. So on loopback
 * binds only loopback names and IP addresses (which no rebinding can produce) are answered, plus the
 * names the user allows (`--allowed-hosts`), as Vite, webpack-dev-server and Jupyter do. On other
 * binds any Host is answered unless a list is given.
 * HTTP/1.1 requests need exactly one Host (RFC 9112 §3.2).
 */
import { isIP } from 'node:net';
import { AekitError } from '../core/errors';
import { HttpError } from './http-error';

/** Whether `address` (a bind address or a Host name, IPv6 without brackets) is this machine's loopback. */
export function isLoopback(address: string): boolean {
  const name = address.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true; // RFC 6761 §6.3
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '0:0:0:0:0:0:0:1' || name === '::ffff:127.0.0.1';
}

/** The host name of a Host header value (port and IPv6 brackets removed, lower case), or undefined when malformed. */
export function hostName(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  const match = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(host) ?? /^([a-z0-9_.-]+)(?::\d{1,5})?$/.exec(host);
  return match ? match[1].replace(/\.$/, '') : undefined;
}

/**
 * An allowed-hosts entry: a name (`models.example.org`), a leading-dot suffix for a domain and its
 * subdomains (`.example.org`), or `*` (any Host).
 */
export function checkAllowedHost(entry: string): string {
  const value = entry.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (value === '*' || /^\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(value) || isIP(value) === 6) return value;
  throw new AekitError('BAD_ARGUMENT', `'${entry}' is not a host name; expected a name (models.example.org), a domain suffix (.example.org), an IP address or '*'`, { where: 'allowedHosts' });
}

/** Decides whether a request's Host header is answered. */
export class HostPolicy {
  private readonly allowed: readonly string[];

  /**
   * @param bindHost - the address the server listens on
   * @param allowedHosts - names answered besides loopback ones (see {@link checkAllowedHost});
   *   undefined: loopback names only on a loopback bind, any name otherwise
   */
  constructor(
    private readonly bindHost: string,
    allowedHosts: readonly string[] | undefined,
  ) {
    this.allowed = allowedHosts?.map(checkAllowedHost) ?? (isLoopback(bindHost) ? [] : ['*']);
  }

  /**
   * Check the Host headers of a request (`rawHeaders` as node:http gives them).
   * @throws HttpError 400 BAD_HOST for a missing (HTTP/1.1), repeated or malformed Host; 403 HOST_NOT_ALLOWED for a name not allowed.
   */
  check(rawHeaders: readonly string[], httpVersion: string): void {
    const hosts: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'host') hosts.push(rawHeaders[i + 1]);
    if (hosts.length > 1) throw new HttpError(400, 'BAD_HOST', `the request has ${hosts.length} Host headers (${hosts.map((h) => `'${h}'`).join(', ')}); HTTP/1.1 requests have exactly one`);
    if (hosts.length === 0) {
      if (httpVersion === '1.0') return;
      throw new HttpError(400, 'BAD_HOST', 'the request has no Host header; HTTP/1.1 requests have exactly one (e.g. Host: 127.0.0.1:8080)');
    }
    const name = hostName(hosts[0]);
    if (name === undefined) throw new HttpError(400, 'BAD_HOST', `the Host header '${hosts[0]}' is not a host name with an optional port`);
    if (isLoopback(name) || isIP(name) !== 0 || this.allows(name)) return;
    const how = this.allowed.length > 0 ? `allowed: loopback names and ${this.allowed.join(', ')}` : `this server listens on ${this.bindHost} and answers loopback names and IP addresses only`;
    throw new HttpError(403, 'HOST_NOT_ALLOWED', `Host '${name}' is not allowed (${how}); start the server with --allowed-hosts ${name} to answer it`);
  }

  private allows(name: string): boolean {
    return this.allowed.some((entry) => entry === '*' || entry === name || (entry.startsWith('.') && (name.endsWith(entry) || name === entry.slice(1))));
  }
}
