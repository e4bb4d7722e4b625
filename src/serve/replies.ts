/**
 * Operation results as responses in the negotiated format. JSON bodies are built as strings
 * (`rowsJson` joins float rows about 4x faster than JSON.stringify of arrays), which is most of what
 * the JSON throughput of docs/benchmarks.md rests on; raw float32 is the operation's own buffer.
 */
import { endianness } from 'node:os';
import { imagesPng, rowsJson } from './codec';
import { MEDIA_TYPES } from './negotiation';
import type { ResponseFormat } from './negotiation';
import type { ClassesResult, CodesResult, ImagesResult } from './operations';
import type { Reply } from './router';

/** Content type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Output byte order: raw float32 responses are little-endian on every host. */
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** A JSON body (already serialised). */
export function jsonReply(body: string, status = 200, headers?: Readonly<Record<string, string>>): Reply {
  return { status, contentType: JSON_TYPE, body, headers };
}

/** A 200 with a body of any type. */
export function bytesReply(contentType: string, body: Buffer, headers?: Readonly<Record<string, string>>): Reply {
  return { status: 200, contentType, body, headers };
}

function floatBytes(data: Float32Array): Buffer {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return HOST_IS_LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32();
}

function rawHeaders(shape: number[], layout: string): Record<string, string> {
  return { 'X-Aekit-Shape': shape.join(','), 'X-Aekit-Dtype': 'float32', 'X-Aekit-Layout': layout, 'X-Aekit-Byte-Order': 'little-endian' };
}

/** Images (of /decode, /sample, /reconstruct); a sample's seed comes back in a header or the JSON, with its latents in JSON. */
export function imagesReply(format: ResponseFormat, result: ImagesResult): Reply {
  const { model, rows, images, sampled } = result;
  const { channels, height, width } = model.imageShape;
  const seedHeader: Record<string, string> = sampled ? { 'X-Aekit-Seed': String(sampled.seed) } : {};
  if (format === 'octet') return bytesReply(MEDIA_TYPES.octet, floatBytes(images), { ...rawHeaders([rows, channels, height, width], 'NCHW'), ...seedHeader });
  if (format === 'png') return bytesReply(MEDIA_TYPES.png, imagesPng(images, model, rows), seedHeader);
  const extra = sampled ? `,"seed":${sampled.seed},"z":${rowsJson(sampled.z, rows)}` : '';
  return jsonReply(`{"model":${JSON.stringify(model.name)},"shape":[${rows},${channels},${height},${width}],"layout":"NCHW","valueRange":"${model.valueRange}","images":${rowsJson(images, rows)}${extra}}`);
}

/** Codes (of /encode), with the log-variance of a Gaussian encoder in JSON. */
export function codesReply(format: ResponseFormat, result: CodesResult): Reply {
  const { model, rows, z, logvar } = result;
  if (format === 'octet') return bytesReply(MEDIA_TYPES.octet, floatBytes(z), rawHeaders([rows, model.latentSize], 'NC'));
  const logvarJson = logvar ? `,"logvar":${rowsJson(logvar, rows)}` : '';
  return jsonReply(`{"model":${JSON.stringify(model.name)},"latentSize":${model.latentSize},"z":${rowsJson(z, rows)}${logvarJson}}`);
}

/** Classes (of /classify): raw float32 probabilities, or JSON with each image's label and the classifier's features. */
export function classesReply(format: ResponseFormat, result: ClassesResult): Reply {
  const { model, rows, probabilities, labels, features } = result;
  if (format === 'octet') return bytesReply(MEDIA_TYPES.octet, floatBytes(probabilities), rawHeaders([rows, model.numClasses], 'NC'));
  const featuresJson = features ? `,"features":${rowsJson(features, rows)}` : '';
  return jsonReply(`{"model":${JSON.stringify(model.name)},"numClasses":${model.numClasses},"label":[${labels.join(',')}],"probabilities":${rowsJson(probabilities, rows)}${featuresJson}}`);
}
