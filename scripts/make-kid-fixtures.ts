/**
 * Regenerates fixtures/metrics/kid-reference.json (and the kid-subsets-*.i32 index files): the KID
 * that /work/shared/reference/kid_reference.py (numpy, torchmetrics' formula) gives for the FID
 * feature fixtures of scripts/make-metric-fixtures.ts, which test/eval/metrics/kid.test.ts checks
 * aekit's KID against. Python is used here only, never by aekit or its tests.
 *
 *   npx tsx scripts/make-kid-fixtures.ts
 *
 * Two kinds of case: one deterministic subset of the first min(nA, nB) rows of each set (the
 * reference's default), and random subsets (--subsets S --size M --seed K). numpy's generator is not
 * aekit's, so for the latter the rows numpy drew are written next to the reference value (the same
 * `default_rng(K).permutation` calls, in the reference's order), and the test feeds those rows to
 * aekit's subset code: the averaging is checked, not the draws.
 *
 * Needs `python3` with numpy (override with AEKIT_FID_PYTHON and AEKIT_REFERENCE_DIR).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { METRIC_FIXTURE_DIR } from './make-metric-fixtures';

const ROOT = resolve(__dirname, '..');
const REFERENCE_DIR = process.env.AEKIT_REFERENCE_DIR ?? '/work/shared/reference';
const PYTHON = process.env.AEKIT_FID_PYTHON ?? 'python3';

/** One KID fixture: two feature files and kid_reference.py's mean and std for them. */
export interface KidReferenceCase {
  name: string;
  description: string;
  /** Feature files, relative to fixtures/metrics. */
  a: string;
  b: string;
  nA: number;
  nB: number;
  d: number;
  /** Random subsets: their count, size, numpy seed, and the file of the rows drawn (int32: a's then b's, per subset). */
  subsets?: { count: number; size: number; seed: number; rows: string };
  /** The exact command that printed `mean` and `std`, run from the repository root. */
  command: string;
  mean: number;
  std: number;
}

/** The schema of fixtures/metrics/kid-reference.json. */
export interface KidReference {
  generatedBy: string;
  reference: string;
  versions: Record<string, string>;
  cases: KidReferenceCase[];
}

/** The rows kid_reference.py draws with --subsets/--size/--seed, in its order. */
const ROWS_SNIPPET =
  'import sys, numpy as np; na, nb, s, m, seed = map(int, sys.argv[1:6]); rng = np.random.default_rng(seed); ' +
  'np.array([rng.permutation(n)[:m] for _ in range(s) for n in (na, nb)], dtype="<i4").tofile(sys.argv[6])';

function python(args: string[]): string {
  return execFileSync(PYTHON, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function kidCase(name: string, description: string, a: string, b: string, nA: number, nB: number, d: number, subsets?: { count: number; size: number; seed: number }): KidReferenceCase {
  const rel = (f: string) => join('fixtures', 'metrics', f);
  const args = [join(REFERENCE_DIR, 'kid_reference.py'), rel(a), rel(b), String(d)];
  let drawn: KidReferenceCase['subsets'];
  if (subsets) {
    args.push('--subsets', String(subsets.count), '--size', String(subsets.size), '--seed', String(subsets.seed));
    const rows = `kid-subsets-${name}.i32`;
    python(['-c', ROWS_SNIPPET, String(nA), String(nB), String(subsets.count), String(subsets.size), String(subsets.seed), join(METRIC_FIXTURE_DIR, rows)]);
    drawn = { ...subsets, rows };
  }
  const [mean, std] = python(args).split(/\s+/).map(Number);
  if (!Number.isFinite(mean) || !Number.isFinite(std)) throw new Error(`kid_reference.py printed no mean and std for ${name}`);
  return { name, description, a, b, nA, nB, d, ...(drawn ? { subsets: drawn } : {}), command: [PYTHON, ...args].join(' '), mean, std };
}

function main(): void {
  const versions = JSON.parse(python(['-c', 'import sys, json, numpy; print(json.dumps({"python": sys.version.split()[0], "numpy": numpy.__version__}))'])) as Record<string, string>;
  const reference: KidReference = {
    generatedBy: 'npx tsx scripts/make-kid-fixtures.ts',
    reference: `${REFERENCE_DIR}/kid_reference.py (unbiased MMD², kernel (x.y/d + 1)^3, as torchmetrics/torch-fidelity)`,
    versions,
    cases: [
      kidCase('different', 'two clearly different distributions, one subset of all 1000 rows', 'fid-real-a.f32', 'fid-other.f32', 1000, 1000, 64),
      kidCase('same-distribution', 'two samples of one distribution: KID near 0 (may be negative: the estimate is unbiased)', 'fid-real-a.f32', 'fid-real-b.f32', 1000, 1000, 64),
      kidCase('unequal-sizes', '40 vs 48 rows: one subset of the first 40 of each', 'fid-small-real.f32', 'fid-small-other.f32', 40, 48, 64),
      kidCase('different-subsets', '20 random subsets of 100 rows', 'fid-real-a.f32', 'fid-other.f32', 1000, 1000, 64, { count: 20, size: 100, seed: 3 }),
      kidCase('same-distribution-subsets', '20 random subsets of 100 rows', 'fid-real-a.f32', 'fid-real-b.f32', 1000, 1000, 64, { count: 20, size: 100, seed: 5 }),
    ],
  };
  writeFileSync(join(METRIC_FIXTURE_DIR, 'kid-reference.json'), JSON.stringify(reference, null, 2) + '\n');
  for (const c of reference.cases) process.stdout.write(`${c.name}: ${c.mean} ± ${c.std}\n`);
}

main();
