/**
 * `aekit latent <verb> <encoder.onnx>`: latent-space tools on an exported encoder and the decoder
 * next to it, one file per verb (fit, sample, vector, apply, interpolate, scatter, classify).
 */
import { Command } from 'commander';
import { applyCommand } from './apply';
import { classifyCommand } from './classify';
import { fitCommand } from './fit';
import { interpolateCommand } from './interpolate';
import { sampleCommand } from './sample';
import { scatterCommand } from './scatter';
import { vectorCommand } from './vector';

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
