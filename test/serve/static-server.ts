/**
 * A plain static file server for the web tests, as any host or `npx http-server` is: files from a
 * folder with their MIME types and nothing else (no COOP/COEP, no CORS headers), on 127.0.0.1.
 * It records every path asked for, so a test can check that a page fetched only its own files.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** The MIME types static hosts send (the ones the demo's files need). */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** A running static server. */
export interface StaticServer {
  url: string;
  /** Paths requested so far, with their status. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/** Serve `root` on an ephemeral port of 127.0.0.1. */
export async function startStaticServer(root: string): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = path.join(root, pathname);
      if (!file.startsWith(path.resolve(root))) file = root;
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat?.isDirectory()) file = path.join(file, 'index.html');
      const found = await fs.stat(file).catch(() => undefined);
      if (!found?.isFile()) {
        requests.push({ path: pathname, status: 404 });
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      requests.push({ path: pathname, status: 200 });
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': String(found.size) });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
