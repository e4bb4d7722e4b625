/**
 * The public API is deliberate: each entry's API report (etc/<entry>.api.md, written by API
 * Extractor from the entry's rolled-up types) matches what the build produces, package.json
 * publishes exactly the entries scripts/build-types.ts knows, and no public type pulls in tfjs or
 * onnx-proto (their declarations do not compile without `skipLibCheck`).
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { entryTypeFiles, PACKAGE_ENTRIES, readReports } from '../../scripts/build-types';
import { ensureBuilt, readPackageJson, ROOT } from './helpers';

/** Packages whose declarations must stay out of the public types, with why. */
const INTERNAL_TYPE_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  '@tensorflow/': "tfjs-layers' declarations fail under strict without skipLibCheck",
  'onnx-proto': 'its declarations need the Long global of @types/long',
});

/**
 * Types a public signature mentions that no entry exports, with why that is fine. Everything else
 * a user receives must be nameable from some entry.
 */
const UNEXPORTED_TYPES: Readonly<Record<string, string>> = Object.freeze({
  runConfigBaseSchema: 'the zod schema behind RunConfig and RunConfigInput, which are exported',
});

/** Names an API report declares as exported. */
function exportedNames(report: string): string[] {
  return [...report.matchAll(/^export (?:declare )?(?:abstract )?(?:function|interface|type|const|class|enum|let|namespace) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
}

describe('package: public API', function () {
  this.timeout(300_000);

  before(async () => {
    await ensureBuilt();
  });

  it('publishes every entry of scripts/build-types.ts in package.json exports and typesVersions, and nothing else', () => {
    const pkg = readPackageJson();
    const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
    assert.deepEqual(subpaths.sort(), PACKAGE_ENTRIES.map((e) => e.subpath).sort());
    for (const entry of PACKAGE_ENTRIES) {
      const types = entryTypeFiles(entry);
      const exported = JSON.stringify(pkg.exports[entry.subpath]);
      for (const file of new Set([types.import, types.require])) assert.ok(exported.includes(`./${file}`), `exports['${entry.subpath}'] should name ./${file}: ${exported}`);
      // typesVersions serves consumers on moduleResolution "node" (node10), which ignores `exports`.
      if (entry.subpath === '.') assert.equal(pkg.types, types.require);
      else assert.deepEqual(pkg.typesVersions['*'][entry.subpath.slice(2)], [types.require]);
    }
    assert.deepEqual(Object.keys(pkg.typesVersions['*']).sort(), subpaths.filter((s) => s !== '.').map((s) => s.slice(2)).sort());
  });

  for (const entry of PACKAGE_ENTRIES) {
    it(`'${entry.subpath}': etc/${entry.name}.api.md is the API the build produces`, () => {
      const { reviewed, fresh } = readReports(entry);
      assert.ok(fresh !== undefined, `build/api/${entry.name}.api.md is missing: run npm run build`);
      assert.ok(reviewed !== undefined, `etc/${entry.name}.api.md is missing: review build/api/${entry.name}.api.md and run \`npm run api\``);
      // Line endings aside, byte for byte: a difference is an API change that nobody reviewed.
      assert.ok(
        reviewed.replace(/\r\n/g, '\n') === fresh.replace(/\r\n/g, '\n'),
        `the public API of '${entry.subpath}' changed: see \`diff -u etc/${entry.name}.api.md build/api/${entry.name}.api.md\`; if intended, run \`npm run api\` and commit etc/`,
      );
    });

    it(`'${entry.subpath}': its public types mention no tfjs or onnx-proto type`, () => {
      const files = entryTypeFiles(entry);
      for (const file of new Set([files.import, files.require])) {
        const text = readFileSync(path.join(ROOT, file), 'utf8');
        const imports = [...text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gm)].map((m) => m[1]);
        for (const [prefix, why] of Object.entries(INTERNAL_TYPE_PACKAGES)) {
          const leaked = imports.filter((specifier) => specifier.startsWith(prefix));
          assert.deepEqual(leaked, [], `${file} imports ${leaked.join(', ')} (${why}): keep the signature that mentions it out of '${entry.subpath}'`);
        }
      }
    });
  }

  it('exports, from some entry, every type a public signature mentions', () => {
    const reports = PACKAGE_ENTRIES.map((entry) => ({ entry, report: readReports(entry).fresh ?? '' }));
    const exported = new Set(reports.flatMap(({ report }) => exportedNames(report)));
    const unnamed = reports.flatMap(({ entry, report }) =>
      [...report.matchAll(/The symbol "([^"]+)" needs to be exported/g)]
        .map((m) => m[1])
        .filter((name) => !exported.has(name) && !(name in UNEXPORTED_TYPES))
        .map((name) => `${name} (mentioned by '${entry.subpath}')`),
    );
    assert.deepEqual([...new Set(unnamed)], [], 'export these types from the entry of the stage that defines them');
  });

  it('keeps the package entry to the documented functions, far below the 202 names it had', () => {
    const { fresh } = readReports(PACKAGE_ENTRIES.find((e) => e.subpath === '.')!);
    const names = exportedNames(fresh ?? '');
    // A bound, not a count: past it, the entry is turning into the grab bag it was. Building blocks go under a subpath.
    assert.ok(names.length > 0 && names.length <= 110, `'aekit' exports ${names.length} names`);
  });

  it('exports every name the README and docs/ import from an aekit entry', () => {
    const docs = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const exportsOf = new Map(PACKAGE_ENTRIES.map((entry) => [entry.subpath === '.' ? 'aekit' : `aekit/${entry.subpath.slice(2)}`, new Set(exportedNames(readReports(entry).fresh ?? ''))]));
    const missing: string[] = [];
    let imports = 0;
    for (const doc of docs) {
      for (const m of readFileSync(path.join(ROOT, doc), 'utf8').matchAll(/import (?:type )?\{([^}]+)\} from '(aekit(?:\/[\w-]+)?)'/g)) {
        imports++;
        const names = m[1].split(',').map((s) => s.replace(/^\s*type\s+/, '').trim()).filter(Boolean);
        const entry = exportsOf.get(m[2]);
        for (const name of names) if (!entry?.has(name)) missing.push(`${doc}: ${name} from '${m[2]}'`);
      }
    }
    assert.ok(imports > 0, 'the docs import nothing from aekit');
    assert.deepEqual(missing, []);
  });
});
