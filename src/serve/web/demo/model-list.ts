/**
 * The models a demo page can show: `aekit serve`'s `GET /v1/models`, or the `manifest.json` of a
 * static export (the same shape: `{ "models": [...] }`, artifact URLs relative to the list).
 */
import type { ImageShape } from '../../../artifact/metadata';
import type { ValueRange } from '../../../data/types';

/** One model of the list (the fields of the server's `ModelListing` the page reads). */
export interface ListedModel {
  name: string;
  family: string;
  latentSize: number;
  imageShape: ImageShape;
  valueRange: ValueRange;
  /** Absolute URLs (resolved against the list's URL) and sizes of the run's artifacts. */
  artifacts: { decoder?: { url: string; bytes?: number }; encoder?: { url: string; bytes?: number } };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fetch the model list at `url` and keep the models that have a decoder (what the page needs).
 * @throws Error naming the URL and what is wrong with the answer.
 */
export async function fetchModelList(url: string): Promise<ListedModel[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new Error(`${url} is not JSON (${(error as Error).message})`);
  }
  if (!isRecord(body) || !Array.isArray(body.models)) throw new Error(`${url}: expected { "models": [...] }`);
  const models: ListedModel[] = [];
  body.models.forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || !isRecord(entry.artifacts)) throw new Error(`${url}: models[${i}] has no name or artifacts`);
    const artifacts: ListedModel['artifacts'] = {};
    for (const role of ['decoder', 'encoder'] as const) {
      const a = entry.artifacts[role];
      if (isRecord(a) && typeof a.url === 'string') artifacts[role] = { url: new URL(a.url, new URL(url, location.href)).href, bytes: typeof a.bytes === 'number' ? a.bytes : undefined };
    }
    if (artifacts.decoder) models.push({ ...(entry as unknown as ListedModel), artifacts });
  });
  if (models.length === 0) throw new Error(`${url} lists no model with a decoder (${body.models.length} model${body.models.length === 1 ? '' : 's'} in all)`);
  return models;
}
