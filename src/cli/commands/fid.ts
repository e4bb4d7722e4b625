/** `aekit fid <a> <b>`: pytorch-fid's command line for any two image folders or statistics files. */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { NODE_EXECUTION_PROVIDERS, ORT_SESSION_RUNTIMES } from '../../artifact/runtime';
import type { OrtSessionRuntime } from '../../artifact/runtime';
import { fidOfFolders, saveStats } from '../../eval/fid-folders';
import type { FidSideReport, FolderFidOptions, FolderFidResult, SavedStats } from '../../eval/fid-folders';
import { INCEPTION_ONNX_COMMAND, SHIPPED_FEATURE_NETWORKS } from '../../eval/features/shipped';
import { describeShape } from '../../eval/images';
import { KID_DEFAULTS } from '../../eval/metrics/kid';
import { intFlag, parseOptions } from '../common';
import { addFeatureFlags, featureFlagsShape, featurePreprocess } from '../feature-flags';
import { evalProgress } from '../progress';

const EP_NAMES = Object.keys(NODE_EXECUTION_PROVIDERS) as [keyof typeof NODE_EXECUTION_PROVIDERS, ...(keyof typeof NODE_EXECUTION_PROVIDERS)[]];

const optionsSchema = z.object({
  features: z.string().min(1).optional(),
  ...featureFlagsShape,
  kid: z.boolean().default(false),
  kidSubsets: intFlag.pipe(z.number().min(1)).optional(),
  kidSubsetSize: intFlag.pipe(z.number().min(2)).optional(),
  seed: intFlag.default(0),
  batchSize: intFlag.pipe(z.number().min(1)).optional(),
  threads: intFlag.pipe(z.number().min(1)).optional(),
  runtime: z.enum(ORT_SESSION_RUNTIMES).optional(),
  ep: z.enum(EP_NAMES).optional(),
  // pytorch-fid's spelling: cpu, cuda, cuda:0 (one GPU: onnxruntime's CUDA provider uses device 0).
  device: z.string().regex(/^(cpu|cuda(:0)?)$/, { message: "expected cpu, cuda or cuda:0 (onnxruntime's CUDA provider runs on device 0; choose the GPU with CUDA_VISIBLE_DEVICES)" }).optional(),
  dims: intFlag.pipe(z.number().min(1)).optional(),
  limit: intFlag.pipe(z.number().min(2)).optional(),
  saveStats: z.union([z.string().min(1), z.literal(true)]).optional(),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

type Flags = z.output<typeof optionsSchema>;

/** The runtime the flags ask for: --runtime, --ep or --device (one of them). */
function runtimeOf(flags: Flags): OrtSessionRuntime | undefined {
  const given = [flags.runtime && '--runtime', flags.ep && '--ep', flags.device && '--device'].filter(Boolean);
  if (given.length > 1) throw new AekitError('BAD_ARGUMENT', `give one of --runtime, --ep and --device, found ${given.join(' and ')}`);
  if (flags.ep) return NODE_EXECUTION_PROVIDERS[flags.ep];
  if (flags.device) return flags.device === 'cpu' ? 'ort-node-cpu' : 'ort-node-cuda';
  return flags.runtime;
}

/**
 * What `--save-stats` asks for: `aekit fid <folder> --save-stats <file.npz>`, or pytorch-fid's
 * `--save-stats <folder> <file.npz>` (the flag followed by both paths, which commander reads as
 * the flag's value and one path); undefined without the flag.
 */
function saveRequest(paths: string[], value: string | true | undefined): { folder: string; file: string } | undefined {
  if (value === undefined) return undefined;
  if (value === true) {
    if (paths.length !== 2) throw new AekitError('BAD_ARGUMENT', `--save-stats: expected a folder and a file (aekit fid <folder> --save-stats <file.npz>), found ${paths.length} paths`);
    return { folder: paths[0], file: paths[1] };
  }
  if (paths.length !== 1) throw new AekitError('BAD_ARGUMENT', `--save-stats <file.npz> takes the statistics of one folder (aekit fid <folder> --save-stats <file.npz>), found ${paths.length} paths`);
  const isFolder = (p: string) => existsSync(p) && statSync(p).isDirectory();
  // pytorch-fid's order: --save-stats <folder> <file>.
  if (isFolder(value) && !isFolder(paths[0])) return { folder: value, file: paths[0] };
  return { folder: paths[0], file: value };
}

function count(n: number | undefined): string {
  return n === undefined ? 'n not recorded' : `${n.toLocaleString('en-US')} images`;
}

function sideLine(label: string, side: FidSideReport): string {
  const what =
    side.kind === 'folder'
      ? `folder, ${count(side.count)}${side.skipped ? ` (${side.skipped} file${side.skipped === 1 ? '' : 's'} skipped)` : ''}${side.firstImage ? `, first image ${describeShape(side.firstImage)}` : ''}`
      : side.kind === 'aekit-stats'
        ? `aekit statistics, ${count(side.count)}`
        : 'pytorch-fid statistics, n not recorded';
  return `${label}: ${side.path} (${what})`;
}

/** A value with enough digits for small FIDs and no noise for large ones. */
function value(v: number): string {
  return String(Number(v.toPrecision(8)));
}

/** The text report of a comparison (what `--json` prints as JSON). */
export function formatFidResult(result: FolderFidResult): string {
  const lines = [sideLine('a', result.a), sideLine('b', result.b)];
  if (result.network) lines.push(`feature network: ${result.network.path} (${result.network.featureSize} features)`);
  else lines.push(`features: ${result.featureSize} (both sides are statistics files)`);
  lines.push(`FID: ${value(result.fid)}`);
  if (result.kid) {
    const spread = result.kid.subsets > 1 ? ` ± ${value(result.kid.std)} (${result.kid.subsets} subsets of ${result.kid.subsetSize.toLocaleString('en-US')})` : ` (one subset of all ${result.kid.subsetSize.toLocaleString('en-US')})`;
    lines.push(`KID: ${value(result.kid.mean)}${spread}`);
  }
  if (result.smallSample) lines.push(`warning: ${result.smallSample}`);
  return lines.join('\n');
}

function savedLine(saved: SavedStats, folder: string): string {
  const p = saved.provenance;
  return `wrote ${saved.file}: mu (${p.network.featureSize}) and sigma (${p.network.featureSize}x${p.network.featureSize})${p.features ? `, features (${p.count}x${p.network.featureSize})` : ''} of ${count(p.count)} from ${folder}, feature network ${p.network.path}`;
}

export function fidCommand(): Command {
  const command = new Command('fid')
    .description("FID (and KID) between two image sets, like pytorch-fid's `python -m pytorch_fid a b`: each side a folder of PNG/JPEG images (at any depth), an aekit statistics file, or pytorch-fid's .npz (mu, sigma). --save-stats writes a folder's statistics.")
    .argument('[paths...]', 'two sides to compare (folders or .npz files); with --save-stats, one folder')
    .option('--features <net.onnx>', `feature network: pytorch-fid's InceptionV3 (${INCEPTION_ONNX_COMMAND}), an aekit classifier, any ONNX network (default: ${SHIPPED_FEATURE_NETWORKS.map((n) => `${describeShape(n.shape)} -> ${path.relative(process.cwd(), n.file)}`).join(', ')}; other shapes need one)`);
  return addFeatureFlags(command, { grayToRgb: false })
    .option('--kid', `KID too (unbiased; mean ± std over ${KID_DEFAULTS.subsets} subsets of ${KID_DEFAULTS.subsetSize}); with --save-stats, store the features KID needs`)
    .option('--kid-subsets <n>', `KID subsets (default ${KID_DEFAULTS.subsets})`)
    .option('--kid-subset-size <m>', `rows per KID subset (default ${KID_DEFAULTS.subsetSize}, at most the smaller set)`)
    .option('--seed <n>', "seed of KID's subsets", '0')
    .option('--batch-size <n>', 'images per onnxruntime run (default: as many as fit 16 MB of input, at most 1000)')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per physical core)')
    .addOption(new Option('--runtime <runtime>', 'onnxruntime runtime').choices([...ORT_SESSION_RUNTIMES]))
    .addOption(new Option('--ep <provider>', 'onnxruntime-node execution provider (shorthand for --runtime)').choices(EP_NAMES))
    .option('--device <device>', "pytorch-fid's --device: cpu, cuda or cuda:0")
    .option('--dims <d>', "the feature dimension expected (pytorch-fid's --dims): an error if the network gives another")
    .option('--limit <n>', 'only the first N images of each folder')
    .option('--save-stats [file.npz]', "write a folder's statistics (mu, sigma: pytorch-fid reads them; aekit's provenance; the features with --kid) instead of comparing")
    .option('--force', 'replace an existing statistics file')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  aekit fid samples/ real/                                  # 28x28 digits: the shipped MNIST classifier
  aekit fid samples/ ref.npz --features inception.onnx      # against pytorch-fid's (or aekit's) statistics
  aekit fid real/ --save-stats ref.npz --features inception.onnx
  aekit fid --save-stats real/ ref.npz                      # pytorch-fid's order works too
  aekit fid samples/ real/ --kid --limit 2000 --json
  aekit fid cats-a/ cats-b/ --features inception.onnx --ep cuda --batch-size 64

pytorch-fid equivalents:
  python -m pytorch_fid samples/ real/               ->  aekit fid samples/ real/ --features inception.onnx
  python -m pytorch_fid --save-stats real/ ref.npz   ->  aekit fid --save-stats real/ ref.npz --features inception.onnx`,
    )
    .action(async (paths: string[], raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const logger = consoleLogger();
      const options: FolderFidOptions = {
        features: flags.features,
        preprocess: featurePreprocess(flags),
        batchSize: flags.batchSize,
        threads: flags.threads,
        runtime: runtimeOf(flags),
        limit: flags.limit,
        dims: flags.dims,
        kid: flags.kid,
        kidSubsets: flags.kidSubsets,
        kidSubsetSize: flags.kidSubsetSize,
        seed: flags.seed,
        logger,
        onProgress: evalProgress(),
      };
      const save = saveRequest(paths, flags.saveStats);
      if (save) {
        const saved = await saveStats(save.folder, save.file, { ...options, force: flags.force });
        process.stdout.write(flags.json ? JSON.stringify({ file: saved.file, ...saved.provenance, warnings: saved.warnings, timings: saved.timings }, null, 2) + '\n' : savedLine(saved, save.folder) + '\n');
        return;
      }
      if (paths.length !== 2) throw new AekitError('BAD_ARGUMENT', `expected two paths to compare (folders of images or .npz statistics files), found ${paths.length}${paths.length === 1 ? '; to write the statistics of one folder, add --save-stats <file.npz>' : ''}`);
      const result = await fidOfFolders(paths[0], paths[1], options);
      process.stdout.write((flags.json ? JSON.stringify(result, null, 2) : formatFidResult(result)) + '\n');
    });
}
