/**
 * How `aekit serve` treats slow clients and a SIGTERM in the middle of a burst, as figures rather
 * than pass/fail (the tests in test/serve/faults.test.ts assert the bounds):
 * - how long a client that trickles its headers, trickles its body, or sends nothing holds a
 *   connection against `startServer({ requestTimeoutMs: 500 })`, and what it is answered;
 * - 100 new connections to the built CLI (half send their request at once, half once the server
 *   logs the SIGTERM), SIGTERM 30/75/120 ms after they connected: the tally of answers and resets.
 * The models are test/serve's tiny trained artifacts (trained on first use, ~3 s).
 *
 * Usage: npm run build && npx tsx bench/serve-edges.ts [--rounds 2]
 * Figures and the exact command: docs/reliability.md, section "Serving".
 */
import type { Socket } from 'node:net';
import { startServer } from '../src/serve';
import { parseResponses, rawConnection, startServeCli, testArtifacts } from '../test/serve/helpers';

const REQUEST_TIMEOUT_MS = 500;
const BURST = 100;
const SIGTERM_DELAYS_MS = [30, 75, 120];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HEAD = 'POST /v1/models/vae/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
const BODY = JSON.stringify({ z: [[0.1, 0.2, 0.3, 0.4]] });

/** Write `text` a byte every 50 ms until the socket closes. */
function trickle(socket: Socket, text: string): void {
  let at = 0;
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(text[at++ % text.length])), 50);
  socket.on('close', () => clearInterval(timer));
}

async function slowClients(decoder: string): Promise<void> {
  const server = await startServer({ models: decoder, port: 0, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const cases: [string, (socket: Socket) => void][] = [
    ['headers trickling', (s) => (s.write(`${HEAD}X-Slow: `), trickle(s, 'abc'))],
    ['body trickling', (s) => (s.write(`${HEAD}Content-Length: 100000\r\n\r\n{"z": [[`), trickle(s, '0,'))],
    ['sends nothing', () => {}],
  ];
  for (const [what, talk] of cases) {
    const exchange = await rawConnection(server.url, talk, 120_000);
    const answer = exchange.raw.toString('latin1').split('\r\n')[0] || 'no answer';
    process.stdout.write(`${what} (requestTimeout ${REQUEST_TIMEOUT_MS} ms): ${exchange.ended} after ${exchange.ms} ms, ${answer}\n`);
  }
  await server.close();
}

async function burst(decoder: string, delayMs: number): Promise<Record<string, number>> {
  const proc = await startServeCli([decoder]);
  const request = `${HEAD}Content-Length: ${BODY.length}\r\n\r\n${BODY}`;
  const late: (() => void)[] = [];
  const connected: Promise<void>[] = [];
  const exchanges = Array.from({ length: BURST }, (_, i) => {
    let onConnect!: () => void;
    connected.push(new Promise<void>((resolve) => (onConnect = resolve)));
    return rawConnection(proc.url, (socket) => {
      if (i % 2 === 0) socket.write(request);
      else late.push(() => socket.write(request));
      onConnect();
    });
  });
  await Promise.all(connected);
  await sleep(delayMs);
  proc.child.kill('SIGTERM');
  while (!/SIGTERM/.test(proc.stderr())) await sleep(5);
  for (const write of late) write();
  const tally: Record<string, number> = {};
  for (const exchange of await Promise.all(exchanges)) {
    let key: string;
    try {
      const responses = parseResponses(exchange.raw);
      key = responses.length > 0 ? String(responses[0].status) : `no answer (${exchange.ended})`;
    } catch {
      key = 'garbled';
    }
    tally[key] = (tally[key] ?? 0) + 1;
  }
  await proc.exited;
  return tally;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 2;
  const decoder = (await testArtifacts()).vae.decoder;
  await slowClients(decoder);
  for (let round = 0; round < rounds; round++) {
    for (const delayMs of SIGTERM_DELAYS_MS) process.stdout.write(`${BURST} connections, SIGTERM ${delayMs} ms after: ${JSON.stringify(await burst(decoder, delayMs))}\n`);
  }
  process.exit(0);
}

void main();
