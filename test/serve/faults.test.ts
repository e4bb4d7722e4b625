/**
 * Fault injection on loopback: slow-header and slow-body clients, silent connections, shutdown
 * with requests half-sent or not sent yet, and SIGTERM in the middle of a burst of new connections
 * to the real `aekit serve` process. Every client gets an answer in the JSON error shape or its
 * result; none is reset, and none waits longer than the limits say.
 */
import { strict as assert } from 'node:assert';
import type * as net from 'node:net';
import { startServer } from '../../src/serve';
import type { ServeProcess, TestArtifacts } from './helpers';
import { assertErrorShape, parseResponses, rawConnection, startServeCli, stopServeCli, testArtifacts } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DECODE_HEAD = 'POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
const BODY = JSON.stringify({ z: [[0.1, 0.2, 0.3, 0.4]] });

/** Write `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: net.Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(text[at++ % text.length]);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
}

describe('serve: slow clients', function () {
  this.timeout(60_000);
  const TIMEOUT_MS = 500;
  let url: string;
  let close: () => Promise<unknown>;

  before(async () => {
    const server = await startServer({ models: (await testArtifacts()).vae.decoder, port: 0, requestTimeoutMs: TIMEOUT_MS });
    url = server.url;
    close = () => server.close();
  });
  after(() => close?.());

  it('headers that keep trickling are cut at --timeout-ms with a JSON 408 (it took 28-44 s)', async () => {
    const exchange = await rawConnection(url, (socket) => {
      socket.write(`${DECODE_HEAD}X-Slow: `);
      trickle(socket, 'abcdefgh', 50);
    });
    const [answer] = parseResponses(exchange.raw);
    assert.equal(answer.status, 408);
    assert.match(assertErrorShape(answer).message, /the request headers did not arrive within 500 ms \(--timeout-ms\)/);
    assert.ok(exchange.ms >= TIMEOUT_MS - 50 && exchange.ms < TIMEOUT_MS + 1500, `cut after ${exchange.ms} ms`);
  });

  it('a body that keeps trickling is cut at --timeout-ms with a JSON 408', async () => {
    const exchange = await rawConnection(url, (socket) => {
      socket.write(`${DECODE_HEAD}Content-Length: 100000\r\n\r\n{"z": [[`);
      trickle(socket, '0,', 50);
    });
    const [answer] = parseResponses(exchange.raw);
    assert.equal(answer.status, 408);
    assert.match(assertErrorShape(answer).message, /the request body did not arrive within 500 ms/);
    assert.equal(answer.headers.connection, 'close');
    assert.ok(exchange.ms >= TIMEOUT_MS - 50 && exchange.ms < TIMEOUT_MS + 1500, `cut after ${exchange.ms} ms`);
  });

  it('a connection that sends nothing is closed at --timeout-ms', async () => {
    const exchange = await rawConnection(url, () => {});
    assert.equal(exchange.ended, 'closed');
    assert.equal(exchange.raw.length, 0);
    assert.ok(exchange.ms >= TIMEOUT_MS - 50 && exchange.ms < TIMEOUT_MS + 1500, `closed after ${exchange.ms} ms`);
  });

  it('still answers after all of that', async () => {
    const exchange = await rawConnection(url, (socket) => socket.write(`${DECODE_HEAD}Content-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`));
    assert.equal(parseResponses(exchange.raw)[0].status, 200);
  });
});

describe('serve: shutdown', function () {
  this.timeout(60_000);
  let artifacts: TestArtifacts;
  before(async () => {
    artifacts = await testArtifacts();
  });

  it('answers requests that arrive on open connections before the listener closes with 503 + Connection: close', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0 });
    // Connected, request not sent yet: http.Server.close() used to destroy these (node counts them idle).
    let send!: () => void;
    let answered!: ReturnType<typeof rawConnection>;
    await new Promise<void>((resolve) => {
      answered = rawConnection(server.url, (socket) => {
        send = () => socket.write(`${DECODE_HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`);
        resolve();
      });
    });
    await sleep(50);
    const closing = server.close();
    await sleep(20);
    send();
    const exchange = await answered;
    const [answer] = parseResponses(exchange.raw);
    assert.equal(answer.status, 503);
    assert.equal(assertErrorShape(answer).code, 'SHUTTING_DOWN');
    assert.equal(answer.headers.connection, 'close');
    assert.equal(exchange.ended, 'closed');
    assert.deepEqual(await closing, { forced: false });
  });

  it('connections still waiting in the listen backlog get a 503, not a reset', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0 });
    const request = `${DECODE_HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;
    // Client and server share this event loop: the kernel completes the handshakes at once, the server accepts one per loop turn.
    const connected: Promise<void>[] = [];
    const exchanges = Array.from({ length: 50 }, () => {
      let onConnect!: () => void;
      connected.push(new Promise<void>((resolve) => (onConnect = resolve)));
      return rawConnection(server.url, (socket) => {
        socket.write(request);
        onConnect();
      });
    });
    await Promise.all(connected);
    const closing = server.close();
    for (const [i, exchange] of (await Promise.all(exchanges)).entries()) {
      const responses = parseResponses(exchange.raw);
      assert.equal(responses.length, 1, `connection ${i}: ${exchange.ended} without an answer`);
      assert.ok(responses[0].status === 503 || responses[0].status === 200, `connection ${i}: ${responses[0].status}`);
      if (responses[0].status === 503) assert.equal(assertErrorShape(responses[0]).code, 'SHUTTING_DOWN');
    }
    assert.deepEqual(await closing, { forced: false });
  });

  it('at the drain limit answers half-sent requests 503 in JSON instead of cutting them', async () => {
    const server = await startServer({ models: artifacts.vae.decoder, port: 0, shutdownTimeoutMs: 300, requestTimeoutMs: 20_000 });
    const halfBody = rawConnection(server.url, (socket) => socket.write(`${DECODE_HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 5)}`));
    const halfHeaders = rawConnection(server.url, (socket) => socket.write(DECODE_HEAD));
    await sleep(100);
    const started = Date.now();
    const closed = await server.close();
    const took = Date.now() - started;
    assert.deepEqual(closed, { forced: true });
    assert.ok(took >= 290 && took < 2000, `close took ${took} ms`);
    for (const [what, exchange] of [['half a body', await halfBody], ['half the headers', await halfHeaders]] as const) {
      const [answer] = parseResponses(exchange.raw);
      assert.equal(answer?.status, 503, `${what}: ${exchange.raw.toString('latin1')}`);
      const error = assertErrorShape(answer, what);
      assert.equal(error.code, 'SHUTTING_DOWN');
      assert.match(error.message, /the server shut down before this request completed \(its drain limit is 300 ms\)/);
      assert.equal(exchange.ended, 'closed', what);
    }
  });
});

describe('serve: SIGTERM during a burst of new connections', function () {
  this.timeout(120_000);
  let proc: ServeProcess | undefined;
  afterEach(() => stopServeCli(proc));

  // The report: 100 new connections, SIGTERM 30-120 ms later, 71-90 of them reset.
  for (const delayMs of [30, 75, 120]) {
    it(`each of 100 connections gets its result or a JSON 503, none is reset (SIGTERM ${delayMs} ms after)`, async () => {
      proc = await startServeCli([(await testArtifacts()).vae.decoder]);
      const url = proc.url;
      const request = `${DECODE_HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;
      const writers: (() => void)[] = [];
      const connected: Promise<void>[] = [];
      const exchanges = Array.from({ length: 100 }, (_, i) => {
        let onConnect!: () => void;
        connected.push(new Promise<void>((resolve) => (onConnect = resolve)));
        return rawConnection(url, (socket) => {
          // Half send at once; half only after the SIGTERM (clients that connected, then wrote).
          if (i % 2 === 0) socket.write(request);
          else writers.push(() => socket.write(request));
          onConnect();
        });
      });
      await Promise.all(connected);
      await sleep(delayMs);
      proc.child.kill('SIGTERM');
      // The late half writes once the server has begun shutting down.
      while (!/SIGTERM: finishing/.test(proc.stderr())) await sleep(5);
      for (const write of writers) write();
      const outcomes = await Promise.all(exchanges);
      const tally: Record<string, number> = {};
      for (const [i, exchange] of outcomes.entries()) {
        const responses = parseResponses(exchange.raw);
        const key = responses.length === 1 ? String(responses[0].status) : `${responses.length} answers, ${exchange.ended}`;
        tally[key] = (tally[key] ?? 0) + 1;
        assert.equal(responses.length, 1, `connection ${i}: ${exchange.ended} after ${JSON.stringify(exchange.raw.toString('latin1').slice(0, 100))}`);
        const [answer] = responses;
        if (answer.status === 200) assert.equal(JSON.parse(answer.body.toString('utf8')).images.length, 1);
        else {
          assert.equal(answer.status, 503, `connection ${i}`);
          assert.equal(assertErrorShape(answer).code, 'SHUTTING_DOWN');
          assert.equal(answer.headers.connection, 'close');
        }
      }
      assert.equal(await proc.exited, 0, proc.stderr());
      // The tally (e.g. {"200": 50, "503": 50}) is what docs/reliability.md reports.
      console.log(`      answers: ${JSON.stringify(tally)}`);
    });
  }
});
