/**
 * The sweep file and its expansion into runs: a base run config, optional named variants (each a
 * set of config overrides, e.g. one per model family) and a grid of values per dotted config key,
 * crossed into one run config per point.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { readJsonFile } from '../../core/json-file';
import { resolveRunConfig } from '../../run/config';
import type { RunConfig } from '../../run/config';

/** The hold-out split of a sweep (train / validation / test), as in the VAE model-selection study. */
export const DEFAULT_SWEEP_SPLIT: readonly [number, number, number] = [0.8, 0.1, 0.1];

/** How far the split may sum from 1 (decimal fractions such as 0.8 + 0.1 + 0.1). */
const SPLIT_TOLERANCE = 1e-9;

/** Config keys the sweep sets itself, so a grid or variant may not. */
const RESERVED_KEYS = ['name', 'outDir', 'train.validationFraction', 'train.testFraction'];

const runNamePart = z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore only');

/** Schema of a sweep file (`aekit sweep --config sweep.json`). */
export const sweepConfigSchema = z.strictObject({
  /** Sweep name: the folder `<outDir>/<name>`. */
  name: runNamePart.min(1),
  outDir: z.string().default('runs'),
  description: z.string().optional(),
  /** The run config every point starts from, inline or as a path relative to the sweep file. */
  base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  /** Values per dotted config key (e.g. "model.latentSize": [100, 200]); every combination is run. */
  grid: z.record(z.string().min(1), z.array(z.unknown()).min(1, 'give at least one value')).default({}),
  /** Named override sets crossed with the grid (e.g. one per model family, each with its own model fields). */
  variants: z.array(z.strictObject({ name: runNamePart.min(1), set: z.record(z.string().min(1), z.unknown()) })).default([]),
  /** Fractions of the dataset's training split for train / validation / test. */
  split: z
    .tuple([z.number().gt(0), z.number().gt(0), z.number().min(0)])
    .default([...DEFAULT_SWEEP_SPLIT])
    .refine((s) => Math.abs(s[0] + s[1] + s[2] - 1) <= SPLIT_TOLERANCE, 'the three fractions must sum to 1'),
  /** Model selection on the validation split. */
  select: z
    .strictObject({
      /** Validation metric to rank by; default: the runs' primary metric (negElbo for VAEs). */
      metric: z.string().min(1).optional(),
      goal: z.enum(['min', 'max']).default('min'),
      /** How many of the best configurations to evaluate on the test split. */
      top: z.number().int().positive().default(1),
    })
    .prefault({}),
});

/** A sweep file as written (defaults may be left out). */
export type SweepConfigInput = z.input<typeof sweepConfigSchema>;
/** A validated sweep config whose `base` is a run config object. */
export type SweepConfig = Omit<z.output<typeof sweepConfigSchema>, 'base'> & { base: Record<string, unknown> };

/** One configuration of a sweep. */
export interface SweepPoint {
  /** Run name (its folder under `<sweep>/runs/`). */
  name: string;
  variant?: string;
  /** The grid values of this point, by grid key. */
  values: Record<string, unknown>;
  /** The full run config (validated, defaults filled in). */
  config: RunConfig;
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}


/**
 * Validate a sweep config. A string `base` is read as a run config file relative to `baseDir`
 * (the sweep file's folder).
 */
export async function resolveSweepConfig(input: unknown, baseDir = '.', where = 'sweep'): Promise<SweepConfig> {
  const parsed = sweepConfigSchema.safeParse(input);
  if (!parsed.success) throw new AekitError('BAD_CONFIG', issuesText(parsed.error), { where });
  const base = typeof parsed.data.base === 'string' ? await readJsonFile(path.resolve(baseDir, parsed.data.base), { what: 'base run config' }) : parsed.data.base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    throw new AekitError('BAD_CONFIG', 'base must be a run config object or the path of one', { where: `${where}: base` });
  }
  const keys = [...Object.keys(parsed.data.grid), ...parsed.data.variants.flatMap((v) => Object.keys(v.set))];
  const reserved = keys.find((k) => RESERVED_KEYS.includes(k));
  if (reserved) throw new AekitError('BAD_CONFIG', `'${reserved}' is set by the sweep itself (name, folder and split); remove it from the grid/variants`, { where });
  const names = parsed.data.variants.map((v) => v.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new AekitError('BAD_CONFIG', `variant name '${twice}' is used twice`, { where: `${where}: variants` });
  return { ...parsed.data, base: base as Record<string, unknown> };
}

/** Read and validate a sweep file. */
export async function loadSweepConfig(file: string): Promise<SweepConfig> {
  return resolveSweepConfig(await readJsonFile(file, { what: 'sweep config' }), path.dirname(file), file);
}

/** The sweep's folder: `<outDir>/<name>`. */
export function sweepDir(config: Pick<SweepConfig, 'outDir' | 'name'>): string {
  return path.join(config.outDir, config.name);
}

/** Set `obj.a.b.c = value` for the dotted path `a.b.c`, creating objects on the way. */
function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let at = obj;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = structuredClone(value);
}

/** Every combination of the grid's values, in key order (the last key varies fastest). */
function combinations(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) out = out.flatMap((partial) => values.map((v) => ({ ...partial, [key]: v })));
  return out;
}

/** A value as part of a folder name: arrays joined by 'x' (hidden sizes 400x200), other text made safe. */
function valueSlug(value: unknown): string {
  const text = Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join('x') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** Grid keys shortened to their last segment where that is unambiguous (model.latentSize -> latentSize). */
export function shortKeys(keys: readonly string[]): Record<string, string> {
  const last = (k: string) => k.split('.').pop() as string;
  return Object.fromEntries(keys.map((k) => [k, keys.filter((o) => last(o) === last(k)).length > 1 ? k : last(k)]));
}

/**
 * Expand a sweep into its points: variants x grid combinations, each applied to the base config
 * with the sweep's split (`validationFraction`, `testFraction`) and run folder. Every point's
 * config is validated here, before anything is trained.
 */
export function sweepPoints(config: SweepConfig, where = 'sweep'): SweepPoint[] {
  const short = shortKeys(Object.keys(config.grid));
  const variants = config.variants.length > 0 ? config.variants : [undefined];
  const points: SweepPoint[] = [];
  for (const variant of variants) {
    for (const values of combinations(config.grid)) {
      const slug = Object.entries(values).map(([k, v]) => `${short[k]}-${valueSlug(v)}`);
      const name = [variant?.name, ...slug].filter(Boolean).join('_') || 'base';
      const raw = structuredClone(config.base);
      for (const [key, value] of Object.entries(variant?.set ?? {})) setPath(raw, key, value);
      for (const [key, value] of Object.entries(values)) setPath(raw, key, value);
      setPath(raw, 'name', name);
      setPath(raw, 'outDir', path.join(sweepDir(config), 'runs'));
      setPath(raw, 'train.validationFraction', config.split[1]);
      setPath(raw, 'train.testFraction', config.split[2]);
      const runConfig = resolveRunConfig(raw, `${where}: run '${name}'`);
      points.push({ name, variant: variant?.name, values, config: runConfig });
    }
  }
  const names = points.map((p) => p.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new AekitError('BAD_CONFIG', `two grid points get the same run name '${twice}'; make the values differ in letters or digits`, { where });
  return points;
}
