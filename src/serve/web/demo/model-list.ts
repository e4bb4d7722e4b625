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

/** A model the page does not run (no decoder: a classifier, a lone encoder), as the list names it. */
export interface OtherModel {
  name: string;
  family: string;
  /** What the API offers for it (`classify`, `encode`, ...). */
  operations: string[];
}

/** The models of a list: those with a decoder (what the page runs), and the others. */
export interface ModelList {
  models: ListedModel[];
  others: OtherModel[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fetch the model list at `url` and split it into the models that have a decoder (what the page
 * needs) and the others.
 * @throws Error naming the URL and what is wrong with the answer.
 */
export async function fetchModelList(url: string): Promise<ModelList> {
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
  const others: OtherModel[] = [];
  body.models.forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry.name !== 'string' || !isRecord(entry.artifacts)) throw new Error(`${url}: models[${i}] has no name or artifacts`);
    const artifacts: ListedModel['artifacts'] = {};
    for (const role of ['decoder', 'encoder'] as const) {
      const a = entry.artifacts[role];
      if (isRecord(a) && typeof a.url === 'string') artifacts[role] = { url: new URL(a.url, new URL(url, location.href)).href, bytes: typeof a.bytes === 'number' ? a.bytes : undefined };
    }
    if (artifacts.decoder) models.push({ ...(entry as unknown as ListedModel), artifacts });
    else {
      const operations = Array.isArray(entry.operations) ? entry.operations.filter((op): op is string => typeof op === 'string') : [];
      others.push({ name: entry.name, family: typeof entry.family === 'string' ? entry.family : 'unknown family', operations });
    }
  });
  if (models.length === 0 && others.length === 0) throw new Error(`${url} lists no model`);
  return { models, others };
}

/** What the page says when the list has no model with a decoder: what each model is and offers instead. */
export function noDecoderNote(others: readonly OtherModel[]): string {
  const models = others.map((m) => `${m.name} (${m.family}${m.operations.length > 0 ? `; API: ${m.operations.map((op) => `/${op}`).join(', ')}` : ''})`);
  return `this page decodes latent codes into images, and no model here has a decoder: ${models.join(', ')}`;
}
