/**
 * The README and docs/ work when pasted (issue 17): every `aekit` command in their bash code blocks
 * is parsed by the CLI's own parser and validated by the verb's schema (`--dry-run`: nothing is
 * read, trained or written), every repository path they name exists (recipes, fixtures, models,
 * scripts), every `npm run` script exists, and every relative Markdown link and figure resolves.
 * The README tour runs for real (shrunk, after a shrunk quickstart), as do `--dry-run` itself and `serve models/`.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli';
import { DryRunDone } from '../../src/cli/dry-run';
import { isAekitError } from '../../src/core/errors';
import { runCli } from '../cli/cli-helpers';
import { startServeCli, stopServeCli } from '../serve/helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** Top-level folders whose paths a command may name; `runs/`, `reports/`, `site/` ... are what commands write. */
const REPO_DIRS = ['experiments', 'models', 'fixtures', 'scripts', 'docs', 'bench', 'src', 'test', 'bin', 'etc'];
const SHELL_LANGS = new Set(['bash', 'sh', 'shell', 'console']);

/** One command line found in a code block. */
interface Found {
  doc: string;
  line: number;
  words: string[];
}

/** Shell words of one line, up to a comment, with `$VAR` replaced from `vars` (no globbing or brace expansion: they reach the CLI as typed). */
function shellWords(text: string, vars: Record<string, string>): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  const push = (): void => {
    if (word !== undefined) commands[commands.length - 1]!.push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === ' ' || c === '\t') {
      push();
    } else if ((c === '&' && text[i + 1] === '&') || c === ';' || c === '|') {
      push();
      commands.push([]);
      if (c === '&') i++;
    } else if (c === '>') {
      push();
      break; // the rest is a redirection target
    } else if (c === '$' && /[A-Z_]/.test(text[i + 1] ?? '')) {
      const name = /^[A-Z_][A-Z0-9_]*/.exec(text.slice(i + 1))![0];
      word = (word ?? '') + (vars[name] ?? `$${name}`);
      i += name.length;
    } else {
      word = (word ?? '') + c;
    }
  }
  push();
  return commands.filter((c) => c.length > 0);
}

/** The command lines of every bash block of `doc`, continuation lines joined, `env $(inner) outer` split in two. */
function commandsOf(doc: string): Found[] {
  const lines = readFileSync(path.join(ROOT, doc), 'utf8').split('\n');
  const found: Found[] = [];
  let lang: string | undefined;
  const vars: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```(\w*)/.exec(lines[i]!);
    if (fence) {
      lang = lang === undefined ? fence[1]! : undefined;
      continue;
    }
    if (lang === undefined || !SHELL_LANGS.has(lang)) continue;
    const start = i;
    let text = lines[i]!.trim().replace(/^\$ /, '');
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i]!.trim();
    const assignment = /^([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(text);
    if (assignment) {
      vars[assignment[1]!] = assignment[2]!;
      continue;
    }
    const envSub = /^env \$\((.*?)\) (.*)$/.exec(text);
    const parts = envSub ? [envSub[1]!, envSub[2]!] : [text];
    for (const part of parts) for (const words of shellWords(part, vars)) found.push({ doc, line: start + 1, words });
  }
  return found;
}

/** The aekit arguments of a command line (`aekit ...`, `npx aekit ...`, `node bin/aekit.js ...`), or undefined. */
function aekitArgs(words: readonly string[]): string[] | undefined {
  const w = words[0] === 'npx' ? words.slice(1) : words;
  if (w[0] === 'aekit') return w.slice(1);
  if (w[0] === 'node' && w[1] === 'bin/aekit.js') return w.slice(2);
  return undefined;
}

/** Words that name a path inside the repository (a tracked top-level folder), `--flag=path` included. */
function repoPaths(words: readonly string[]): string[] {
  return words
    .map((w) => w.replace(/^--[\w-]+=/, ''))
    .filter((w) => REPO_DIRS.includes(w.split('/')[0]!) && w.includes('/') && !/[*{}$<>]/.test(w));
}

/** Parse and validate one command in process, as `aekit <args> --dry-run` would. */
async function dryRun(args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram().exitOverride();
  program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  // `aekit sweep --dry-run` lists its configurations on the logger; the list is not what is checked here.
  const level = process.env.AEKIT_LOG;
  process.env.AEKIT_LOG = 'error';
  try {
    await program.parseAsync(['node', 'aekit', ...args, '--dry-run']);
    return out.join('');
  } catch (error) {
    if (error instanceof DryRunDone) return out.join('');
    if (error instanceof CommanderError) throw new Error(`${error.message} ${out.join('')}`.trim());
    if (isAekitError(error)) throw new Error(`aekit: ${error.message}`);
    throw error;
  } finally {
    process.stdout.write = write;
    if (level === undefined) delete process.env.AEKIT_LOG;
    else process.env.AEKIT_LOG = level;
  }
}

describe('docs: every command in README.md and docs/*.md works when pasted', function () {
  this.timeout(120_000);
  const all = DOCS.flatMap(commandsOf);
  const aekit = all.filter((c) => aekitArgs(c.words) && !aekitArgs(c.words)!.includes('--help') && aekitArgs(c.words)!.length > 0);

  it('finds the commands (the extraction itself works)', () => {
    assert.ok(aekit.length >= 60, `only ${aekit.length} aekit commands found`);
    const verbs = new Set(aekit.map((c) => aekitArgs(c.words)![0]));
    for (const verb of ['quickstart', 'train', 'export', 'eval', 'fid', 'serve', 'sweep', 'latent', 'bench', 'browser']) assert.ok(verbs.has(verb), `no '${verb}' command in the docs`);
  });

  it('the README starts with the two commands, then says what aekit is, with a picture on its first screen', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /^# aekit\n\n```bash\nnpm ci && npx aekit quickstart\nnpm test\n```\n\n/);
    const firstScreen = readme.split('\n').slice(0, 30).join('\n');
    assert.match(firstScreen, /aekit is a TypeScript toolkit/);
    assert.match(firstScreen, /!\[[^\]]*\]\(docs\/figures\/[\w./-]+\.(png|gif)\)/);
  });

  it('every aekit command parses and validates with --dry-run', async () => {
    const failures: string[] = [];
    for (const { doc, line, words } of aekit) {
      const args = aekitArgs(words)!;
      try {
        const printed = await dryRun(args);
        // `aekit sweep --dry-run` is the sweep's own: it lists the configurations on stderr and prints Slurm scripts.
        if (args[0] !== 'sweep' && !/^dry run: /.test(printed)) failures.push(`${doc}:${line}: ${words.join(' ')}: printed no plan: ${printed}`);
      } catch (error) {
        const message = (error as Error).message;
        // The sweep's dry run reads its data; the docs' own-data examples (~/omniglot, /tmp/...) are yours to supply.
        if (args[0] === 'sweep' && /--data: folder not found: (~|\/tmp)\//.test(message)) continue;
        failures.push(`${doc}:${line}: ${words.join(' ')}: ${message}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('every repository path a command names exists, and every npm script it runs is defined', () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const missing: string[] = [];
    for (const { doc, line, words } of all) {
      for (const p of repoPaths(words)) {
        // An output path (after --out) may be new, but its folder must exist.
        const i = words.indexOf(p);
        const isOutput = i > 0 && ['--out', '-o', '--json', '--md', '--png'].includes(words[i - 1]!);
        if (!existsSync(path.join(ROOT, isOutput ? path.dirname(p) : p))) missing.push(`${doc}:${line}: ${p}`);
      }
      if (words[0] === 'npm' && words[1] === 'run' && !scripts[words[2]!]) missing.push(`${doc}:${line}: npm run ${words[2]}`);
    }
    assert.deepEqual(missing, []);
  });

  it('every relative link and figure in README.md and docs/*.md resolves, anchors included', () => {
    const withoutCode = (doc: string): string => readFileSync(path.join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
    // GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces to '-'.
    const anchors = new Map(DOCS.map((doc) => [doc, new Set([...withoutCode(doc).matchAll(/^#{1,6} (.*)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')))]));
    const broken: string[] = [];
    for (const doc of DOCS) {
      for (const match of withoutCode(doc).matchAll(/\]\(([^)\s]+)\)|src="([^"]+)"/g)) {
        const [file, anchor] = (match[1] ?? match[2])!.split('#') as [string, string | undefined];
        if (/^[a-z]+:/.test(file)) continue;
        const target = file === '' ? doc : path.relative(ROOT, path.resolve(ROOT, path.dirname(doc), decodeURIComponent(file)));
        if (!existsSync(path.join(ROOT, target))) broken.push(`${doc}: ${file}`);
        else if (anchor && anchors.has(target) && !anchors.get(target)!.has(anchor)) broken.push(`${doc}: ${file}#${anchor}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('--dry-run prints the plan and does nothing; a bad flag still fails (the built CLI)', async () => {
    const plan = await runCli(['train', '--config', 'experiments/quickstart.json', '--epochs', '2', '--dry-run'], { cwd: ROOT });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^dry run: aekit train\n {2}--config "experiments\/quickstart\.json"\n {2}--epochs 2\n/);
    assert.match(plan.stdout, /arguments and flags are valid; nothing was done\n$/);
    assert.doesNotMatch(plan.stderr, /backend|epoch/, 'nothing trained');
    const bad = await runCli(['export', 'runs/quickstart', '--rtol', 'x', '--dry-run'], { cwd: ROOT });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^aekit: --rtol: expected a number, got 'x'/);
  });

  it('the README tour runs for real, shrunk, after a shrunk quickstart', async function () {
    this.timeout(600_000);
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'aekit-tour-'));
    try {
      const quick = await runCli(['quickstart', '--epochs', '1', '--limit', '500', '--eval-n', '100'], { cwd });
      assert.equal(quick.code, 0, quick.stderr);
      // Extra flags keep each verb small; the README's own arguments are used as they are.
      const SHRINK: Record<string, string[]> = { eval: ['--n', '100'], bench: ['--batch', '1', '--warmup', '0', '--runs', '2'], export: [], latent: ['--count', '4'] };
      const tour = commandsOf('README.md').filter((c) => c.line > 40).map((c) => aekitArgs(c.words)).filter((a): a is string[] => a !== undefined && a[0]! in SHRINK);
      assert.ok(tour.length >= 5, `${tour.length} tour commands`);
      for (const args of tour) {
        const { code, stderr } = await runCli([...args, ...SHRINK[args[0]!]!], { cwd });
        assert.equal(code, 0, `aekit ${args.join(' ')}: ${stderr}`);
      }
      assert.ok(existsSync(path.join(cwd, 'prior.png')) && existsSync(path.join(cwd, 'site', 'index.html')));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('aekit serve models/ (the shipped classifiers) serves both, for /classify, as docs/serving.md says', async () => {
    const proc = await startServeCli([path.join(ROOT, 'models')]);
    try {
      const { models } = (await (await fetch(`${proc.url}/v1/models`)).json()) as { models: { name: string; operations: string[] }[] };
      assert.deepEqual(models.map((m) => [m.name, m.operations]), [['colored-mnist-classifier', ['classify']], ['mnist-classifier', ['classify']]]);
    } finally {
      await stopServeCli(proc);
    }
    const serving = readFileSync(path.join(ROOT, 'docs', 'serving.md'), 'utf8');
    assert.match(serving, /aekit serve models\//);
    assert.match(serving, /POST \/v1\/models\/\{name\}\/classify/);
  });
});
