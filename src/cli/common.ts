/**
 * Helpers shared by the CLI verbs: option parsing with zod (errors name the flag), config files,
 * and `--set key=value` overrides.
 */
import { z } from 'zod';
import { AekitError } from '../core/errors';
import { readJsonFile as readJson } from '../core/json-file';
import { stopIfDryRun } from './dry-run';

/**
 * Parse CLI options with a schema; a bad value becomes an error naming the flag. Under
 * `--dry-run` the valid flags are printed and the verb stops here (./dry-run.ts).
 */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const message = result.error.issues.map((i) => `--${i.path.map(String).map(kebab).join('.')}: ${i.message}`).join('; ');
    throw new AekitError('BAD_ARGUMENT', message);
  }
  stopIfDryRun(result.data);
  return result.data;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A number flag: commander hands strings; this turns them into numbers with an error quoting the bad text. */
export const numberFlag = z.string().transform((text, ctx) => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    ctx.addIssue({ code: 'custom', message: `expected a number, got '${text}'` });
    return z.NEVER;
  }
  return value;
});

/** An integer flag (see {@link numberFlag}). */
export const intFlag = numberFlag.refine(Number.isInteger, { message: 'expected a whole number' });

/** Read a JSON config file with errors naming the file. */
export async function readJsonFile(file: string): Promise<Record<string, unknown>> {
  return (await readJson(file, { what: 'config file', object: true })) as Record<string, unknown>;
}

/** Set `obj.a.b.c = value` for the dotted path `a.b.c`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let at: Record<string, unknown> = obj;
  keys.slice(0, -1).forEach((key) => {
    const next = at[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[key] = {};
    at = at[key] as Record<string, unknown>;
  });
  at[keys[keys.length - 1]] = value;
}

/**
 * Apply `--set a.b=value` overrides; values parse as JSON when they can (numbers, arrays, booleans).
 * `unknownKey` (e.g. run/config's `unknownConfigField`) says why a key names no field, checked
 * after the earlier sets so that `--set model.family=...` decides which model fields exist.
 * @throws AekitError BAD_ARGUMENT naming the `--set` entry.
 */
export function applySets(config: Record<string, unknown>, sets: readonly string[], unknownKey?: (config: Record<string, unknown>, key: string) => string | undefined): void {
  for (const entry of sets) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new AekitError('BAD_ARGUMENT', `--set expects key=value, got '${entry}'`);
    const problem = unknownKey?.(config, entry.slice(0, eq));
    if (problem) throw new AekitError('BAD_ARGUMENT', `--set ${entry}: ${problem}`);
    const raw = entry.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the string (e.g. --set model.activation=elu).
    }
    setPath(config, entry.slice(0, eq), value);
  }
}

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
