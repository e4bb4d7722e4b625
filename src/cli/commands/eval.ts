/** `aekit eval`: FID, KID, SSIM, PSNR, ELBO, latent classifiers and translation cycles of an exported model or a run. */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { consoleLogger } from '../../core/log';
import { DEFAULT_FID_CLASSIFIER } from '../../eval/fid-features';
import * as path from 'node:path';
import { INCEPTION_ONNX_COMMAND, SHIPPED_FEATURE_NETWORKS } from '../../eval/features/shipped';
import { describeShape } from '../../eval/images';
import { KID_DEFAULTS } from '../../eval/metrics/kid';
import { DEFAULT_EVAL_COUNT, EVAL_METRICS, evaluate } from '../../eval/evaluate';
import type { EvalMetric } from '../../eval/evaluate';
import { formatReportTable, reportJson, writeReport } from '../../eval/report';
import { CACHE_DIR_ENV, DEFAULT_CACHE_FOLDER } from '../../eval/cache';
import { DEFAULT_IWAE_SAMPLES } from '../../eval/metrics/elbo';
import { ORT_SESSION_RUNTIMES } from '../../artifact/runtime';
import { intFlag, parseOptions } from '../common';
import { addDataFlags, dataFlagsShape, dataSourceFromFlags, reportingFolderReads } from '../data-flags';
import { addFeatureFlags, featureFlagsShape, featurePreprocess } from '../feature-flags';
import { evalProgress } from '../progress';

const optionsSchema = z.object({
  fid: z.boolean().default(false),
  kid: z.boolean().default(false),
  ssim: z.boolean().default(false),
  psnr: z.boolean().default(false),
  elbo: z.boolean().default(false),
  latent: z.boolean().default(false),
  accuracy: z.boolean().default(false),
  translation: z.boolean().default(false),
  ...dataFlagsShape,
  n: intFlag.pipe(z.number().min(2)).default(DEFAULT_EVAL_COUNT),
  elboN: intFlag.pipe(z.number().min(1)).optional(),
  iwaeK: intFlag.pipe(z.number().min(1)).optional(),
  latentN: intFlag.pipe(z.number().min(2)).optional(),
  features: z.string().min(1).optional(),
  classifier: z.string().min(1).optional(),
  ...featureFlagsShape,
  kidSubsets: intFlag.pipe(z.number().min(1)).optional(),
  kidSubsetSize: intFlag.pipe(z.number().min(2)).optional(),
  cacheDir: z.string().optional(),
  seed: intFlag.default(0),
  runtime: z.enum(ORT_SESSION_RUNTIMES).optional(),
  report: z.string().optional(),
  json: z.boolean().default(false),
});

export function evalCommand(): Command {
  const command = new Command('eval')
    .description('Evaluate a model on a dataset\'s test split: FID and KID (samples, reconstructions, and train-vs-test for scale), SSIM, PSNR, ELBO + IWAE bound, classifiers on latent codes vs pixels, a classifier\'s accuracy, the cycle SSIM/PSNR of a translation model (cyclegan). With no metric flag, every metric that applies to the family.')
    .argument('<model.onnx|dir>', 'an artifact, a folder of artifacts, or a run folder (its onnx/ folder, else its latest checkpoint exported on the fly)')
    .option('--fid', 'FID (Fréchet distance of features; shipped networks for 28x28 gray and RGB images, other shapes need --features)')
    .option('--kid', `KID (unbiased MMD², cubic kernel; mean ± std over ${KID_DEFAULTS.subsets} subsets of ${KID_DEFAULTS.subsetSize}): the honest number for small sets`)
    .option('--ssim', 'SSIM of reconstructions')
    .option('--psnr', 'PSNR of reconstructions')
    .option('--elbo', `ELBO (reconstruction + KL) and IWAE bound (VAEs)`)
    .option('--latent', 'classifiers on latent codes vs on pixels')
    .option('--accuracy', 'test accuracy of a classifier artifact')
    .option('--translation', 'SSIM and PSNR of A -> B -> A and B -> A -> B (cyclegan; domain B from the run config)');
  // The data: default the run's, else the one named in the artifact metadata. A folder's (or an
  // IDX pair's without test files) test part is a seeded 10% hold-out (the run's seed).
  addDataFlags(command, { kind: 'model' })
    .option('--n <count>', `images per comparison (default ${DEFAULT_EVAL_COUNT})`)
    .option('--elbo-n <count>', 'test images of the ELBO estimate (default min(n, 1000))')
    .option('--iwae-k <k>', `importance samples of the IWAE bound (default ${DEFAULT_IWAE_SAMPLES})`)
    .option('--latent-n <count>', 'training images of the latent classifiers (default min(n, 2000); test: half of it)')
    .option('--features <net.onnx>', `FID/KID feature network: an aekit classifier, pytorch-fid's InceptionV3 (${INCEPTION_ONNX_COMMAND}), any ONNX network (default: ${SHIPPED_FEATURE_NETWORKS.map((n) => `${describeShape(n.shape)} -> ${path.relative(process.cwd(), n.file)}`).join(', ')})`)
    .option('--classifier <file.onnx>', 'alias of --features');
  return addFeatureFlags(command, { grayToRgb: true })
    .option('--kid-subsets <n>', `KID subsets (default ${KID_DEFAULTS.subsets})`)
    .option('--kid-subset-size <m>', `rows per KID subset (default ${KID_DEFAULTS.subsetSize}, at most --n)`)
    .option('--cache-dir <dir>', `cache of reference statistics (default $${CACHE_DIR_ENV} or ./${DEFAULT_CACHE_FOLDER})`)
    .option('--seed <n>', 'seed of every random draw', '0')
    .addOption(new Option('--runtime <runtime>', 'onnxruntime execution provider').choices([...ORT_SESSION_RUNTIMES]))
    .option('--report <dir>', 'write report.json, report.md and PNG figures here')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  aekit eval runs/quickstart
  aekit eval runs/quickstart/onnx --fid --n 5000
  aekit eval runs/quickstart/onnx/decoder.onnx --fid --json
  aekit eval runs/quickstart --elbo --iwae-k 64 --report reports/quickstart
  aekit eval runs/omniglot-ae --data ~/omniglot --n 2000 --report reports/omniglot
  aekit eval runs/fashion-ae --dataset fashion-mnist --latent
  aekit eval runs/emnist-vae --idx emnist-test-images-idx3-ubyte.gz --idx-labels emnist-test-labels-idx1-ubyte.gz --idx-transpose
  aekit eval runs/cyclegan-colors --translation --n 1000 --report reports/cyclegan
  aekit eval runs/dcgan-cats --fid --kid --features inception.onnx --n 2000
  aekit eval runs/dcgan-cats --fid --features pool3.onnx --features-range symmetric --features-size 299x299
  aekit eval models/mnist-classifier.onnx          # a classifier: its test accuracy`,
    )
    .action(async (target: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const metrics = EVAL_METRICS.filter((m: EvalMetric) => flags[m]);
      const source = await dataSourceFromFlags(flags);
      const logger = consoleLogger();
      const report = await reportingFolderReads(logger, () => evaluate(target, {
        metrics,
        dataset: source && 'spec' in source ? source.spec : undefined,
        data: source && 'folder' in source ? source.folder : undefined,
        count: flags.n,
        elboCount: flags.elboN,
        iwaeSamples: flags.iwaeK,
        latentTrainCount: flags.latentN,
        latentTestCount: flags.latentN === undefined ? undefined : Math.max(1, Math.floor(flags.latentN / 2)),
        features: flags.features ?? flags.classifier,
        featurePreprocess: featurePreprocess(flags),
        kidSubsets: flags.kidSubsets,
        kidSubsetSize: flags.kidSubsetSize,
        cacheDir: flags.cacheDir,
        seed: flags.seed,
        runtime: flags.runtime,
        figures: flags.report !== undefined,
        logger,
        onProgress: evalProgress(),
      }));
      if (flags.report) {
        const files = await writeReport(flags.report, report);
        process.stderr.write(`report: ${files.join(', ')}\n`);
      }
      process.stdout.write(flags.json ? JSON.stringify(reportJson(report), null, 2) + '\n' : formatReportTable(report) + '\n');
    });
}
