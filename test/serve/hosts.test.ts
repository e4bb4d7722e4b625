/** Which Host headers the server answers (DNS rebinding on loopback binds, RFC 9112's one Host). */
import { strict as assert } from 'node:assert';
import { AekitError } from '../../src/core/errors';
import { HttpError } from '../../src/serve/http-error';
import { checkAllowedHost, hostName, HostPolicy, isLoopback } from '../../src/serve/hosts';

const host = (value: string) => ['Host', value];

function refused(policy: HostPolicy, raw: string[], status: number, message: RegExp, version = '1.1'): void {
  assert.throws(
    () => policy.check(raw, version),
    (e: unknown) => e instanceof HttpError && e.status === status && e.code === (status === 403 ? 'HOST_NOT_ALLOWED' : 'BAD_HOST') && message.test(e.message),
    JSON.stringify(raw),
  );
}

describe('serve: Host checks', () => {
  it('knows loopback names and addresses, and reads Host values', () => {
    for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'models.localhost', '127.0.0.1', '127.1.2.3', '::1']) assert.ok(isLoopback(name), name);
    for (const name of ['0.0.0.0', '10.0.0.1', 'localhost.evil.com', 'evil.com', '::', '128.0.0.1']) assert.ok(!isLoopback(name), name);
    assert.equal(hostName('LocalHost:8080'), 'localhost');
    assert.equal(hostName('[::1]:8080'), '::1');
    assert.equal(hostName('example.org.'), 'example.org');
    assert.equal(hostName('a b'), undefined);
    assert.equal(hostName('x:y'), undefined);
    assert.equal(hostName(''), undefined);
  });

  it('on a loopback bind answers loopback names and IP addresses only (a rebinding page gets 403)', () => {
    const policy = new HostPolicy('127.0.0.1', undefined);
    for (const value of ['127.0.0.1:8080', 'localhost:8080', 'localhost', '[::1]:8080', 'demo.localhost:1', '192.168.1.10:8080']) assert.doesNotThrow(() => policy.check(host(value), '1.1'), value);
    refused(policy, host('evil.example:8080'), 403, /Host 'evil\.example' is not allowed \(this server listens on 127\.0\.0\.1 and answers loopback names and IP addresses only\); start the server with --allowed-hosts evil\.example/);
    refused(policy, host('localhost.evil.example'), 403, /not allowed/);
  });

  it('answers the names of --allowed-hosts too: names, .domain suffixes, or *', () => {
    const policy = new HostPolicy('127.0.0.1', ['models.example.org', '.lab.internal']);
    for (const value of ['models.example.org', 'MODELS.example.org:443', 'lab.internal', 'gpu1.lab.internal:8080', 'localhost']) assert.doesNotThrow(() => policy.check(host(value), '1.1'), value);
    refused(policy, host('example.org'), 403, /allowed: loopback names and models\.example\.org, \.lab\.internal/);
    refused(policy, host('evil-lab.internal'), 403, /not allowed/);
    assert.doesNotThrow(() => new HostPolicy('127.0.0.1', ['*']).check(host('anything.example'), '1.1'));
  });

  it('on other binds answers any name unless a list is given', () => {
    assert.doesNotThrow(() => new HostPolicy('0.0.0.0', undefined).check(host('models.example.org'), '1.1'));
    refused(new HostPolicy('0.0.0.0', ['models.example.org']), host('other.example.org'), 403, /not allowed/);
  });

  it('needs exactly one well-formed Host on HTTP/1.1 (400 BAD_HOST); HTTP/1.0 may leave it out', () => {
    const policy = new HostPolicy('127.0.0.1', undefined);
    refused(policy, [], 400, /the request has no Host header; HTTP\/1\.1 requests have exactly one/);
    refused(policy, [...host('127.0.0.1'), ...host('evil.example')], 400, /the request has 2 Host headers \('127\.0\.0\.1', 'evil\.example'\)/);
    refused(policy, host('a b'), 400, /the Host header 'a b' is not a host name with an optional port/);
    assert.doesNotThrow(() => policy.check([], '1.0'));
  });

  it('checks --allowed-hosts entries, naming the bad one', () => {
    assert.equal(checkAllowedHost(' Models.Example.org '), 'models.example.org');
    assert.equal(checkAllowedHost('[::1]'), '::1');
    assert.equal(checkAllowedHost('*'), '*');
    assert.throws(() => checkAllowedHost('http://x.org/'), (e: unknown) => e instanceof AekitError && /allowedHosts: 'http:\/\/x\.org\/' is not a host name; expected a name \(models\.example\.org\), a domain suffix \(\.example\.org\), an IP address or '\*'/.test(e.message));
    assert.throws(() => new HostPolicy('127.0.0.1', ['a b']), /'a b' is not a host name/);
  });
});
