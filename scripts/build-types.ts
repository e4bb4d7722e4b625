/**
 * The package's public types and API reports (run by `npm run build`; `npm run api` accepts a
 * changed API). For every entry of package.json `exports` (the table below), API Extractor rolls
 * the declarations tsc wrote to build/dts/ into one self-contained file under dist/types/, holding
 * only what that entry exports and what those exports mention. That is how tfjs stays internal: a
 * public signature that mentions a tfjs type would pull `@tensorflow/tfjs` into the rollup, and
 * tfjs-layers' declarations do not compile under `strict` without `skipLibCheck`
 * (test/package/ checks that none does).
 *
 * The API report of each entry (etc/<report>.api.md) is the reviewed record of the public API.
 * A build writes the fresh reports to build/api/ and says when they differ from etc/;
 * test/package/api-report.test.ts fails until `npm run api` copies them (review the diff).
 *
 * Usage: `npm run build:types` (after tsc; part of `npm run build`) or `npm run api` (tsc, then `--update`).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel, ExtractorMessageCategory } from '@microsoft/api-extractor';
import type { ExtractorMessage, IConfigFile } from '@microsoft/api-extractor';

const ROOT = path.resolve(__dirname, '..');
/** Where `tsc -p tsconfig.build.json` writes declarations (not shipped: the rollups are). */
export const DTS_DIR = path.join(ROOT, 'build', 'dts');
/** The shipped rollups, one per entry. */
export const TYPES_DIR = path.join(ROOT, 'dist', 'types');
/** The reviewed API reports. */
export const REPORT_DIR = path.join(ROOT, 'etc');
/** Reports of the last build, compared with {@link REPORT_DIR}. */
export const FRESH_REPORT_DIR = path.join(ROOT, 'build', 'api');

/** One public entry of the package. */
export interface PackageEntry {
  /** Its key in package.json `exports` (and `typesVersions`, without the `./`). */
  subpath: string;
  /** Its source module under src/, without extension (tsc's declaration under build/dts/). */
  source: string;
  /** Name of its rollup under dist/types/ and of its report under etc/ (`<name>.api.md`). */
  name: string;
  /** ESM (the web module): its rollup ships as `<name>.d.mts` for `import` and `<name>.d.cts` for `require`. */
  esm?: true;
}

/** The package's public entries. Add a subpath here and in package.json `exports` and `typesVersions`. */
export const PACKAGE_ENTRIES: readonly PackageEntry[] = Object.freeze([
  { subpath: '.', source: 'index', name: 'aekit' },
  { subpath: './data', source: 'data/index', name: 'aekit-data' },
  { subpath: './artifact', source: 'artifact/index', name: 'aekit-artifact' },
  { subpath: './export', source: 'export/index', name: 'aekit-export' },
  { subpath: './eval', source: 'eval/index', name: 'aekit-eval' },
  { subpath: './train', source: 'train/index', name: 'aekit-train' },
  { subpath: './serve', source: 'serve/index', name: 'aekit-serve' },
  { subpath: './bench', source: 'bench/index', name: 'aekit-bench' },
  { subpath: './web', source: 'serve/web/aekit-web', name: 'aekit-web', esm: true },
]);

/** The rollup files an entry ships, relative to the package root (what `exports` points `types` at). */
export function entryTypeFiles(entry: PackageEntry): { import: string; require: string } {
  const base = `dist/types/${entry.name}`;
  return entry.esm ? { import: `${base}.d.mts`, require: `${base}.d.cts` } : { import: `${base}.d.ts`, require: `${base}.d.ts` };
}

/**
 * Compiler settings of the analysis: a consumer's (strict, Node and DOM types). Declarations of
 * dependencies are not checked here (a consumer's `tsc` does that, in test/package/).
 */
const ANALYSIS_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'commonjs',
    moduleResolution: 'node',
    lib: ['ES2022', 'DOM'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
  },
  // The entry declarations themselves; the program follows their imports.
  files: PACKAGE_ENTRIES.map((entry) => path.join(DTS_DIR, `${entry.source}.d.ts`)),
};

/** Messages that say nothing about the API: aekit tags no release stages and links freely in TSDoc. */
const QUIET = { logLevel: ExtractorLogLevel.None, addToApiReportFile: false };

function entryConfig(entry: PackageEntry): IConfigFile {
  return {
    projectFolder: ROOT,
    mainEntryPointFilePath: path.join(DTS_DIR, `${entry.source}.d.ts`),
    compiler: { overrideTsconfig: ANALYSIS_TSCONFIG },
    apiReport: { enabled: true, reportFileName: entry.name, reportFolder: REPORT_DIR, reportTempFolder: FRESH_REPORT_DIR, includeForgottenExports: false },
    docModel: { enabled: false },
    dtsRollup: { enabled: true, untrimmedFilePath: path.join(TYPES_DIR, `${entry.name}.d.ts`) },
    tsdocMetadata: { enabled: false },
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        // A type a public signature mentions but the entry does not export: listed in the report, so a review sees it.
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        'ae-missing-release-tag': QUIET,
        // TSDoc is required on exports (STYLE.md), not on every member.
        'ae-undocumented': QUIET,
        'ae-unresolved-link': QUIET,
      },
      tsdocMessageReporting: { default: QUIET },
    },
  };
}

/** What one entry's extraction found. */
export interface EntryResult {
  entry: PackageEntry;
  /** Its fresh report differs from the reviewed one in etc/ (or etc/ has none). */
  reportChanged: boolean;
  errors: string[];
}

/**
 * Roll up every entry's types into dist/types/ and write its fresh report to build/api/ (and, with
 * `update`, to etc/). Needs tsc's declarations in build/dts/.
 */
export function buildTypes(options: { update?: boolean } = {}): EntryResult[] {
  const missing = PACKAGE_ENTRIES.map((e) => path.join(DTS_DIR, `${e.source}.d.ts`)).filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`declarations missing (${missing.map((f) => path.relative(ROOT, f)).join(', ')}): run \`tsc -p tsconfig.build.json\` first`);
  mkdirSync(REPORT_DIR, { recursive: true });
  mkdirSync(FRESH_REPORT_DIR, { recursive: true });
  const configs = PACKAGE_ENTRIES.map((entry) =>
    ExtractorConfig.prepare({ configObject: entryConfig(entry), configObjectFullPath: undefined, packageJsonFullPath: path.join(ROOT, 'package.json') }),
  );
  // One TypeScript program for all entries: each further entry costs its analysis only.
  const compilerState = CompilerState.create(configs[0], { additionalEntryPoints: configs.map((c) => c.mainEntryPointFilePath) });
  return PACKAGE_ENTRIES.map((entry, i) => {
    const errors: string[] = [];
    const result = Extractor.invoke(configs[i], {
      compilerState,
      localBuild: options.update === true,
      messageCallback: (message: ExtractorMessage) => {
        // Console lines (which file was written, whether a report changed) are summed up by main(), once per entry.
        const problem = message.category !== ExtractorMessageCategory.Console && (message.logLevel === ExtractorLogLevel.Error || message.logLevel === ExtractorLogLevel.Warning);
        if (problem) errors.push(message.formatMessageWithLocation(ROOT));
        message.handled = true;
      },
    });
    if (entry.esm) {
      const rollup = path.join(TYPES_DIR, `${entry.name}.d.ts`);
      const files = entryTypeFiles(entry);
      copyFileSync(rollup, path.join(ROOT, files.import));
      renameSync(rollup, path.join(ROOT, files.require));
    }
    return { entry, reportChanged: result.apiReportChanged, errors };
  });
}

/** The reviewed and the fresh report of an entry (`undefined` where there is none). */
export function readReports(entry: PackageEntry): { reviewed?: string; fresh?: string } {
  const read = (dir: string) => {
    const file = path.join(dir, `${entry.name}.api.md`);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
  return { reviewed: read(REPORT_DIR), fresh: read(FRESH_REPORT_DIR) };
}

function main(): void {
  const update = process.argv.includes('--update');
  const results = buildTypes({ update });
  const failed = results.filter((r) => r.errors.length > 0);
  for (const r of failed) process.stderr.write(`${r.entry.subpath}:\n  ${r.errors.join('\n  ')}\n`);
  const changed = results.filter((r) => r.reportChanged);
  if (update) {
    for (const r of changed) process.stdout.write(`etc/${r.entry.name}.api.md updated\n`);
  } else if (changed.length > 0) {
    process.stdout.write(
      `The public API changed in ${changed.map((r) => `'${r.entry.subpath}'`).join(', ')}: compare build/api/ with etc/ ` +
        `(e.g. \`diff -u etc/${changed[0].entry.name}.api.md build/api/${changed[0].entry.name}.api.md\`), then run \`npm run api\` to accept.\n`,
    );
  }
  writeFileSync(path.join(FRESH_REPORT_DIR, 'README.txt'), 'Fresh API reports of the last build; `npm run api` copies them to etc/.\n');
  if (failed.length > 0) process.exitCode = 1;
}

if (require.main === module) main();
