/**
 * `aekit latent <verb> <encoder.onnx>`: latent-space tools on an exported encoder and the decoder
 * next to it (fit, sample, vector, apply, interpolate, scatter, classify).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomic-write';
import { AekitError } from '../../core/errors';
import { imageGridPng } from '../../core/image-io';
import {
  DEFAULT_CLASSIFY_TEST_FRACTION,
  DEFAULT_GMM_COMPONENTS,
  DEFAULT_INTERPOLATION_STEPS,
  DEFAULT_VECTOR_SCALES,
  LATENT_DATASETS,
  LATENT_FIGURE_SCALE,
  applyAttributeVector,
  attributeVector,
  classifyMarkdown,
  classifyRepresentations,
  distributionPath,
  fitLatentDistribution,
  interpolateImages,
  interpolationGif,
  loadLatentImages,
  openLatentModel,
  parseAttributeVector,
  projectTo2d,
  resolveDistribution,
  sampleImages,
  saveDistribution,
  scatterPng,
  selectGroups,
  subsetLatentImages,
} from '../../eval/latent';
import type { GroupRule, LatentImageSource, LatentImages, LatentModel } from '../../eval/latent';
import { LATENT_CLASSIFIERS } from '../../eval/metrics/latent-classifiers';
import { intFlag, numberFlag, parseOptions } from '../common';

const sourceShape = {
  dataset: z.enum(LATENT_DATASETS).optional(),
  data: z.string().min(1).optional(),
  images: z.array(z.string().min(1)).optional(),
  split: z.enum(['train', 'test']).default('test'),
  limit: intFlag.pipe(z.number().int().positive()).optional(),
  seed: intFlag.default(0),
  decoder: z.string().min(1).optional(),
};

/** A comma-separated list of numbers, e.g. `0,0.5,1`. */
const numberList = z.string().transform((text, ctx) => {
  const values = text.split(',').map((t) => Number(t.trim()));
  if (text.trim() === '' || values.some((v) => !Number.isFinite(v))) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated numbers, got '${text}'` });
    return z.NEVER;
  }
  return values;
});

type SourceFlags = { dataset?: (typeof LATENT_DATASETS)[number]; data?: string; images?: string[]; split: 'train' | 'test'; limit?: number; seed: number };

function imageSource(flags: SourceFlags): LatentImageSource {
  return { dataset: flags.dataset, folder: flags.data, files: flags.images, split: flags.split, limit: flags.limit, seed: flags.seed };
}

/** Add the image-source flags (one of --dataset, --data, --images) to a subcommand. */
function withSource(command: Command, what: string): Command {
  return command
    .addOption(new Option('--dataset <name>', `${what} from a bundled data set`).choices([...LATENT_DATASETS]))
    .option('--data <folder>', `${what} from a folder of images (one subfolder per class)`)
    .option('--images <files...>', `${what} from image files`)
    .addOption(new Option('--split <split>', 'split of a bundled data set').choices(['train', 'test']).default('test'))
    .option('--limit <n>', 'use n images drawn at random (seeded)')
    .option('--seed <n>', 'seed of every random draw', '0')
    .option('--decoder <file.onnx>', 'the decoder (default: decoder.onnx next to the encoder)');
}

/** Open the model, run `body`, release the sessions. */
async function withModel<T>(encoder: string, decoder: string | undefined, body: (model: LatentModel) => Promise<T>): Promise<T> {
  const model = await openLatentModel(encoder, { decoder });
  try {
    return await body(model);
  } finally {
    await model.release();
  }
}

async function writeOutput(file: string, bytes: Uint8Array | string): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, bytes, { force: true });
}

function gridPng(model: LatentModel, images: Float32Array, count: number, columns: number): Buffer {
  const { height, width, channels } = model.imageShape;
  return imageGridPng(images, count, height, width, channels, { columns, scale: LATENT_FIGURE_SCALE });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const fitSchema = z.object({
  ...sourceShape,
  kind: z.enum(['gaussian', 'gmm']).default('gaussian'),
  components: intFlag.pipe(z.number().int().positive()).default(DEFAULT_GMM_COMPONENTS),
  covariance: z.enum(['full', 'diagonal']).default('full'),
  out: z.string().min(1).optional(),
});

function fitCommand(): Command {
  return withSource(new Command('fit'), 'codes of images')
    .description('Fit a Gaussian (mean, covariance) or a Gaussian mixture (EM) to the codes of images; saved next to the encoder for `aekit latent sample`.')
    .argument('<encoder.onnx>', 'exported encoder')
    .addOption(new Option('--kind <kind>', 'distribution').choices(['gaussian', 'gmm']).default('gaussian'))
    .option('--components <n>', `GMM components (default ${DEFAULT_GMM_COMPONENTS})`)
    .addOption(new Option('--covariance <type>', 'covariance of each Gaussian').choices(['full', 'diagonal']).default('full'))
    .option('-o, --out <file.json>', 'where to save it (default: <encoder>.latent-<kind>.json next to the encoder)')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent fit runs/ae/onnx/encoder.onnx --dataset mnist --split train --limit 5000
  aekit latent fit runs/faces/onnx/encoder.onnx --data ~/lfw --kind gmm --components 8`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(fitSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadLatentImages(imageSource(flags), model.imageShape);
        const dist = await fitLatentDistribution(model, images, { kind: flags.kind, components: flags.components, covariance: flags.covariance, seed: flags.seed });
        const out = flags.out ?? distributionPath(encoder, flags.kind);
        await saveDistribution(dist, out);
        const em = dist.fit.iterations !== undefined ? `, ${dist.fit.iterations} EM iterations${dist.fit.converged ? '' : ' (not converged)'}` : '';
        say(`fitted a ${dist.kind} (${dist.components.length} component${dist.components.length > 1 ? 's' : ''}, ${dist.covarianceType} covariance) to ${dist.fit.count} codes of size ${dist.latentSize}: mean log-likelihood ${dist.fit.logLikelihood.toFixed(3)}${em}`);
        say(`written: ${out}`);
      });
    });
}

const sampleSchema = z.object({
  decoder: z.string().min(1).optional(),
  distribution: z.string().min(1).optional(),
  count: intFlag.pipe(z.number().int().positive()).default(64),
  classes: numberList.optional(),
  columns: intFlag.pipe(z.number().int().positive()).optional(),
  seed: intFlag.default(0),
  out: z.string().min(1),
});

function sampleCommand(): Command {
  return new Command('sample')
    .description('Draw codes from a fitted distribution (or the N(0, I) prior) and decode them into a PNG grid.')
    .argument('<encoder.onnx>', 'exported encoder (the decoder next to it decodes)')
    .option('--distribution <which>', "'gaussian' or 'gmm' (fitted next to the encoder), 'prior' (N(0, I)), or a file; default: the first fitted, else the prior of a VAE")
    .option('--count <n>', 'samples (default 64)')
    .option('--classes <list>', 'conditional models: classes to generate, e.g. 5,7 (count split evenly, one block of rows per class)')
    .option('--columns <n>', 'images per row (default: square grid, or one row per class)')
    .option('--seed <n>', 'seed of the draw', '0')
    .option('--decoder <file.onnx>', 'the decoder (default: decoder.onnx next to the encoder)')
    .requiredOption('-o, --out <file.png>', 'the grid')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent sample runs/ae/onnx/encoder.onnx --distribution gmm --count 64 --out gmm-samples.png
  aekit latent sample runs/vae/onnx/encoder.onnx --distribution prior --out prior-samples.png
  aekit latent sample runs/cvae/onnx/encoder.onnx --classes 5,7 --count 16 --out fives-and-sevens.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(sampleSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const classes = flags.classes;
        if (model.numClasses > 0 && !classes) throw new AekitError('BAD_ARGUMENT', `this ${model.family} is conditional: choose the classes to generate with --classes (0..${model.numClasses - 1})`, { where: encoder });
        const bad = classes?.find((c) => !Number.isInteger(c) || c < 0 || c >= model.numClasses);
        if (model.numClasses > 0 && bad !== undefined) throw new AekitError('BAD_ARGUMENT', `--classes: ${bad} is not a class of this model (0..${model.numClasses - 1})`, { where: encoder });
        if (model.numClasses === 0 && classes) throw new AekitError('BAD_ARGUMENT', `--classes needs a conditional model; this ${model.family} has no class input`, { where: encoder });
        const { distribution, from } = await resolveDistribution(model, flags.distribution);
        // One row per class: each row holds count / classes samples of one class.
        const perClass = classes ? Math.ceil(flags.count / classes.length) : flags.count;
        const labels = classes ? Int32Array.from({ length: flags.count }, (_, i) => classes[Math.floor(i / perClass)]) : undefined;
        const images = await sampleImages(model, distribution, flags.count, flags.seed, labels);
        await writeOutput(flags.out, gridPng(model, images, flags.count, flags.columns ?? (classes ? perClass : Math.ceil(Math.sqrt(flags.count)))));
        say(`${flags.count} samples from ${from}${classes ? ` of classes ${classes.join(', ')}` : ''}`);
        say(`written: ${flags.out}`);
      });
    });
}

const vectorSchema = z.object({
  ...sourceShape,
  groups: z.string().regex(/^[^,]+,[^,]+$/, "expected two folder names, e.g. 'smiling,sad'").optional(),
  labels: z.string().min(1).optional(),
  attribute: z.string().min(1).optional(),
  values: z.string().regex(/^[^,]+,[^,]+$/, "expected two values, e.g. 'yes,no'").optional(),
  out: z.string().min(1),
});

function vectorCommand(): Command {
  return withSource(new Command('vector'), 'images of both groups')
    .description('Attribute vector: mean code of group A minus mean code of group B, the groups given by folder names or a labels CSV.')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--groups <a,b>', 'two class folders of --data, e.g. smiling,sad')
    .option('--labels <file.csv>', 'labels CSV: header row, first column the file (relative to --data), one column per attribute')
    .option('--attribute <column>', 'the CSV column that forms the groups')
    .option('--values <a,b>', 'the CSV values of group A and B (default: sign of numbers, or yes/no)')
    .requiredOption('-o, --out <vector.json>', 'where to save the vector')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent vector runs/faces/onnx/encoder.onnx --data ~/faces --groups smiling,sad --out smile.json
  aekit latent vector runs/faces/onnx/encoder.onnx --data ~/lfw --labels lfw-attributes.csv --attribute Smiling --out smile.json
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --images sad1.png sad2.png --out smiling.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(vectorSchema, raw);
      let rule: GroupRule;
      if (flags.groups && !flags.labels) {
        const [a, b] = flags.groups.split(',').map((s) => s.trim());
        rule = { kind: 'folders', a, b };
      } else if (flags.labels && flags.attribute && !flags.groups) {
        const [a, b] = flags.values ? flags.values.split(',').map((s) => s.trim()) : [undefined, undefined];
        rule = { kind: 'csv', file: flags.labels, column: flags.attribute, a, b };
      } else {
        throw new AekitError('BAD_ARGUMENT', 'give the groups either as --groups a,b (folder names) or as --labels file.csv --attribute column, not both');
      }
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadLatentImages(imageSource(flags), model.imageShape);
        const groups = await selectGroups(images, rule);
        const vector = await attributeVector(model, images, groups);
        await writeOutput(flags.out, JSON.stringify(vector, null, 1) + '\n');
        const norm = Math.sqrt(vector.vector.reduce((s, v) => s + v * v, 0));
        say(`vector '${vector.name}' from ${vector.counts.a} vs ${vector.counts.b} images: length ${norm.toFixed(3)} over ${vector.latentSize} dimensions`);
        say(`written: ${flags.out}`);
      });
    });
}

const applySchema = z.object({
  ...sourceShape,
  vector: z.string().min(1),
  scales: numberList.default([...DEFAULT_VECTOR_SCALES]),
  out: z.string().min(1),
});

function applyCommand(): Command {
  return withSource(new Command('apply'), 'images to edit')
    .description('Add an attribute vector (from `aekit latent vector`) to the codes of images at several strengths and decode: one row per image.')
    .argument('<encoder.onnx>', 'exported encoder (the one the vector was made with)')
    .requiredOption('--vector <vector.json>', 'the attribute vector')
    .option('--scales <list>', `strengths, 0 = plain reconstruction (default ${DEFAULT_VECTOR_SCALES.join(',')})`)
    .requiredOption('-o, --out <file.png>', 'the grid: a row per image, a column per strength')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --data ~/faces/sad --limit 8 --out smiling.png
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --images a.png b.png --scales -1,0,1,2 --out edit.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(applySchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const text = await fs.readFile(flags.vector, 'utf8').catch(() => {
          throw new AekitError('FILE_NOT_FOUND', 'cannot read the attribute vector', { where: flags.vector });
        });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (error) {
          throw new AekitError('BAD_DATA', `not valid JSON: ${(error as Error).message}`, { where: flags.vector });
        }
        const vector = parseAttributeVector(parsed, flags.vector, model.latentSize);
        if (vector.encoder.runId !== model.metadata.runId) {
          // Codes of another run live in another space: the vector would point nowhere in particular.
          throw new AekitError('BAD_ARGUMENT', `the vector was made with the encoder of run '${vector.encoder.runId}', this encoder is from run '${model.metadata.runId}'`, { where: flags.vector });
        }
        const images = await loadLatentImages(imageSource(flags), model.imageShape);
        const edited = await applyAttributeVector(model, images, vector, flags.scales);
        // Each row: the input image, then the decoded code at each strength.
        const columns = flags.scales.length + 1;
        const per = images.height * images.width * images.channels;
        const grid = new Float32Array(images.count * columns * per);
        for (let i = 0; i < images.count; i++) {
          grid.set(images.images.subarray(i * per, (i + 1) * per), i * columns * per);
          grid.set(edited.subarray(i * flags.scales.length * per, (i + 1) * flags.scales.length * per), (i * columns + 1) * per);
        }
        await writeOutput(flags.out, gridPng(model, grid, images.count * columns, columns));
        say(`applied '${vector.name}' to ${images.count} images at strengths ${flags.scales.join(', ')} (first column: the input)`);
        say(`written: ${flags.out}`);
      });
    });
}

const interpolateSchema = z.object({
  ...sourceShape,
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  pairs: intFlag.pipe(z.number().int().positive()).default(4),
  steps: intFlag.pipe(z.number().int().min(2)).default(DEFAULT_INTERPOLATION_STEPS),
  method: z.enum(['linear', 'slerp']).default('linear'),
  label: intFlag.optional(),
  delay: intFlag.pipe(z.number().int().positive()).optional(),
  out: z.string().min(1),
  gif: z.string().min(1).optional(),
});

/**
 * The class each walk of a conditional model is decoded with (undefined for other models): the
 * `--label` of every walk, else each pair's first image's class, which image files do not have.
 */
function walkLabels(model: LatentModel, from: LatentImages, label: number | undefined, encoder: string): ArrayLike<number> | undefined {
  if (model.numClasses === 0) {
    if (label !== undefined) throw new AekitError('BAD_ARGUMENT', `--label needs a conditional model; this ${model.family} has no class input`, { where: encoder });
    return undefined;
  }
  if (label !== undefined) {
    if (!Number.isInteger(label) || label < 0 || label >= model.numClasses) {
      throw new AekitError('BAD_ARGUMENT', `--label: ${label} is not a class of this model (0..${model.numClasses - 1})`, { where: encoder });
    }
    return new Int32Array(from.count).fill(label);
  }
  if (Array.from(from.labels).some((l) => l < 0)) {
    throw new AekitError('BAD_ARGUMENT', `this ${model.family} is conditional: give the class of the walk with --label (0..${model.numClasses - 1}); image files carry no class`, { where: encoder });
  }
  return from.labels;
}

/** Pairs of images to walk between: the two files, or random pairs of a source. */
async function interpolationPairs(model: LatentModel, flags: z.output<typeof interpolateSchema>): Promise<{ from: LatentImages; to: LatentImages }> {
  if (flags.from || flags.to) {
    if (!flags.from || !flags.to) throw new AekitError('BAD_ARGUMENT', 'give both --from and --to');
    const both = await loadLatentImages({ files: [flags.from, flags.to] }, model.imageShape);
    return { from: subsetLatentImages(both, [0]), to: subsetLatentImages(both, [1]) };
  }
  const images = await loadLatentImages(imageSource({ ...flags, limit: flags.pairs * 2 }), model.imageShape);
  if (images.count < 2) throw new AekitError('BAD_ARGUMENT', `need at least 2 images to interpolate, found ${images.count}`);
  const pairs = Math.floor(images.count / 2);
  return { from: subsetLatentImages(images, Array.from({ length: pairs }, (_, i) => 2 * i)), to: subsetLatentImages(images, Array.from({ length: pairs }, (_, i) => 2 * i + 1)) };
}

function interpolateCommand(): Command {
  return withSource(new Command('interpolate'), 'random pairs of images')
    .description('Walk between the codes of two images and decode each step: a PNG strip (one row per pair) and, with --gif, an animation.')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--from <image>', 'first image file')
    .option('--to <image>', 'second image file')
    .option('--pairs <n>', 'random pairs from --dataset/--data (default 4)')
    .option('--steps <n>', `steps, both ends included (default ${DEFAULT_INTERPOLATION_STEPS})`)
    .addOption(new Option('--method <method>', 'straight line or great circle').choices(['linear', 'slerp']).default('linear'))
    .option('--label <class>', 'conditional models: the class every walk is decoded with (default: each pair\'s first image\'s class, from its folder; required for --from/--to files)')
    .option('--delay <ms>', 'GIF frame time in milliseconds (default 120)')
    .requiredOption('-o, --out <file.png>', 'the strip')
    .option('--gif <file.gif>', 'also write an animated GIF')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent interpolate runs/vae/onnx/encoder.onnx --dataset mnist --pairs 4 --out walk.png --gif walk.gif
  aekit latent interpolate runs/faces/onnx/encoder.onnx --from a.png --to b.png --steps 12 --method slerp --out a-to-b.png
  aekit latent interpolate runs/cvae/onnx/encoder.onnx --from a.png --to b.png --label 7 --out sevens.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(interpolateSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const { from, to } = await interpolationPairs(model, flags);
        const labels = walkLabels(model, from, flags.label, encoder);
        const walks = await interpolateImages(model, from.images, to.images, from.count, { steps: flags.steps, method: flags.method, labels });
        await writeOutput(flags.out, gridPng(model, walks, from.count * flags.steps, flags.steps));
        say(`${from.count} walk${from.count > 1 ? 's' : ''} of ${flags.steps} steps (${flags.method})`);
        say(`written: ${flags.out}`);
        if (flags.gif) {
          await writeOutput(flags.gif, interpolationGif(walks, from.count, flags.steps, model.imageShape, flags.delay));
          say(`written: ${flags.gif}`);
        }
      });
    });
}

const scatterSchema = z.object({
  ...sourceShape,
  limit: intFlag.pipe(z.number().int().positive()).default(2000),
  title: z.string().optional(),
  out: z.string().min(1),
});

function scatterCommand(): Command {
  return withSource(new Command('scatter'), 'images to plot')
    .description('Scatter plot of the codes of images coloured by class (2-D codes as they are, larger ones on their first two principal components).')
    .argument('<encoder.onnx>', 'exported encoder')
    .option('--title <text>', 'chart title')
    .requiredOption('-o, --out <file.png>', 'the plot')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent scatter runs/vae-2d/onnx/encoder.onnx --dataset mnist --limit 2000 --out scatter.png
  aekit latent scatter runs/ae/onnx/encoder.onnx --data ~/omniglot-mini --out omniglot-codes.png`,
    )
    .action(async (encoder: string, raw: Record<string, unknown>) => {
      const flags = parseOptions(scatterSchema, raw);
      await withModel(encoder, flags.decoder, async (model) => {
        const images = await loadLatentImages(imageSource(flags), model.imageShape);
        const { values, size } = await model.features(images.images, images.count, model.numClasses > 0 ? images.labels : undefined);
        const projection = projectTo2d(values, images.count, size);
        const title = flags.title ?? `${model.family} codes of ${images.count} images${projection.method === 'pca' ? ` (PCA of ${size}-D)` : ''}`;
        await writeOutput(flags.out, scatterPng(projection, { title, labels: images.labels, classNames: images.classNames }));
        say(`${images.count} codes of size ${size}${projection.method === 'pca' ? `, first two principal components explain ${(100 * (projection.explained![0] + projection.explained![1])).toFixed(1)}% of the variance` : ''}`);
        say(`written: ${flags.out}`);
      });
    });
}

const classifySchema = z.object({
  ...sourceShape,
  testFraction: numberFlag.pipe(z.number().gt(0).lt(1)).default(DEFAULT_CLASSIFY_TEST_FRACTION),
  classifiers: z.string().optional(),
  pixels: z.boolean().default(true),
  json: z.string().min(1).optional(),
});

function classifyCommand(): Command {
  return withSource(new Command('classify'), 'labelled images')
    .description('Classifiers (logistic regression, MLP, k-NN, random forest) on the codes of one or more encoders vs on the pixels, on a per-class train/test split.')
    .argument('<encoders...>', 'exported encoders (one table row each, all on the same split)')
    .option('--test-fraction <f>', `share of each class held out for testing (default ${DEFAULT_CLASSIFY_TEST_FRACTION})`)
    .option('--classifiers <list>', `comma-separated subset of ${LATENT_CLASSIFIERS.join(', ')}`)
    .option('--no-pixels', 'skip the pixel baseline')
    .option('--json <file>', 'also write the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  aekit latent classify runs/zoo/runs/*/onnx/encoder.onnx --data ~/omniglot/images_background
  aekit latent classify runs/ae/onnx/encoder.onnx --dataset mnist --limit 3000 --classifiers knn,random-forest`,
    )
    .action(async (encoders: string[], raw: Record<string, unknown>) => {
      const flags = parseOptions(classifySchema, raw);
      const classifiers = flags.classifiers?.split(',').map((c) => c.trim());
      const unknown = classifiers?.find((c) => !(LATENT_CLASSIFIERS as readonly string[]).includes(c));
      if (unknown) throw new AekitError('UNKNOWN_NAME', `unknown classifier '${unknown}'; expected some of: ${LATENT_CLASSIFIERS.join(', ')}`, { where: '--classifiers' });
      const models: LatentModel[] = [];
      try {
        for (const encoder of encoders) models.push(await openLatentModel(encoder, { decoder: flags.decoder }));
        const shape = models[0].imageShape;
        const other = models.find((m) => m.imageShape.height !== shape.height || m.imageShape.width !== shape.width || m.imageShape.channels !== shape.channels);
        if (other) throw new AekitError('BAD_ARGUMENT', `the encoders take different image shapes (${other.encoderPath} vs ${models[0].encoderPath})`);
        const images = await loadLatentImages(imageSource(flags), shape);
        const result = await classifyRepresentations(models, images, {
          testFraction: flags.testFraction,
          seed: flags.seed,
          classifiers: classifiers as (typeof LATENT_CLASSIFIERS)[number][] | undefined,
          pixels: flags.pixels,
        });
        say(`${result.numClasses} classes, ${result.trainCount} training and ${result.testCount} test images (per-class split)\n`);
        say(classifyMarkdown(result));
        if (flags.json) {
          await writeOutput(flags.json, JSON.stringify(result, null, 2) + '\n');
          say(`\nwritten: ${flags.json}`);
        }
      } finally {
        await Promise.all(models.map((m) => m.release()));
      }
    });
}

/** The `latent` verb with its subcommands. */
export function latentCommand(): Command {
  return new Command('latent')
    .description('Latent-space tools on an exported encoder (and its decoder): fit, sample, vector, apply, interpolate, scatter, classify.')
    .addCommand(fitCommand())
    .addCommand(sampleCommand())
    .addCommand(vectorCommand())
    .addCommand(applyCommand())
    .addCommand(interpolateCommand())
    .addCommand(scatterCommand())
    .addCommand(classifyCommand())
    .addHelpText(
      'after',
      `
Examples:
  aekit latent fit runs/ae/onnx/encoder.onnx --dataset mnist --split train --limit 5000 --kind gmm
  aekit latent sample runs/ae/onnx/encoder.onnx --distribution gmm --out samples.png
  aekit latent vector runs/faces/onnx/encoder.onnx --data ~/faces --groups smiling,sad --out smile.json
  aekit latent apply runs/faces/onnx/encoder.onnx --vector smile.json --data ~/faces/sad --limit 8 --out smiling.png
  aekit latent interpolate runs/vae/onnx/encoder.onnx --dataset mnist --pairs 4 --out walk.png --gif walk.gif
  aekit latent scatter runs/vae-2d/onnx/encoder.onnx --dataset mnist --out scatter.png
  aekit latent classify runs/zoo/runs/*/onnx/encoder.onnx --data ~/omniglot/images_background`,
    );
}
