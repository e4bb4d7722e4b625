/**
 * Files the server hands to browsers (and a static export copies): onnxruntime-web's `.mjs`/`.wasm`
 * from the installed package (pages work offline, no CDN), aekit's built web module, with the MIME
 * types browsers insist on (`application/wasm` for streaming compilation, a JavaScript type for
 * modules) and the cross-origin isolation headers that multithreaded wasm needs.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../core/paths';

/** URL prefix of onnxruntime-web's files. */
export const ORT_URL_PREFIX = '/ort/';
/** URL of aekit's web module. */
export const WEB_MODULE_URL = '/web/aekit-web.js';
/** Where `npm run build` writes the web module. */
export const WEB_MODULE_FILE = path.join(PACKAGE_ROOT, 'dist', 'web', 'aekit-web.js');
/**
 * The onnxruntime-web build the demo page imports as `onnxruntime-web`: the default build with
 * external wasm, which has both the WebGPU (JSEP) and the wasm CPU execution providers.
 */
export const ORT_WEB_ENTRY = 'ort.min.mjs';
/**
 * What a page needs of onnxruntime-web, and all a static export copies: the entry module and the
 * JSEP runtime it loads from `wasmPaths` (one `.mjs` + `.wasm` pair serves both WebGPU and wasm).
 */
export const ORT_RUNTIME_FILES = Object.freeze([ORT_WEB_ENTRY, 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm']);

/** MIME types by extension. */
export const MIME_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.onnx': 'application/octet-stream',
});

/**
 * Headers that make a page cross-origin isolated (so it gets SharedArrayBuffer and onnxruntime-web
 * can run wasm on several threads). Workers' scripts need COEP too, so every static file gets them.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/** Headers letting pages on other origins load a file (artifacts, runtime files) under their own COEP. */
export const SHAREABLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Access-Control-Allow-Origin': '*',
});

/** The folder with onnxruntime-web's dist files, from the installed package. */
export function ortWebDist(): string {
  return path.dirname(require.resolve('onnxruntime-web'));
}

/** Names of the onnxruntime-web files the server may serve (listed once; nothing else under /ort/). */
export async function listOrtFiles(): Promise<Set<string>> {
  const names = await fs.readdir(ortWebDist());
  return new Set(names.filter((n) => /^ort[\w.-]*\.(mjs|js|wasm|map)$/.test(n)));
}

/** Stream a file with its MIME type; resolves when sent. Callers check that the file may be served. */
export async function sendFile(res: ServerResponse, file: string, headers: Record<string, string>): Promise<void> {
  const stat = await fs.stat(file);
  res.writeHead(200, {
    'Content-Type': MIME_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': String(stat.size),
    'Cache-Control': 'no-cache',
    'Last-Modified': stat.mtime.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    res.on('close', resolve);
    stream.pipe(res);
  });
}
