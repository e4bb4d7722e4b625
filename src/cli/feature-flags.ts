/**
 * The `--features-*` flags that describe a feature network without aekit metadata (or override its
 * declaration), shared by `aekit eval` and `aekit fid`: their commander options, their zod schema,
 * and the preprocessing fields they give.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { FEATURE_INPUT_RANGES, FEATURE_RESIZE_MODES } from '../artifact/metadata';
import type { FeatureExtraction } from '../artifact/metadata';

/** `--features-size 299` or `299x299`. */
const sizeFlag = z
  .string()
  .regex(/^\d+(x\d+)?$/, { message: 'expected HxW or N (e.g. 299x299 or 299)' })
  .transform((text) => {
    const [height, width] = text.split('x').map(Number);
    return { height, width: width ?? height };
  })
  .refine((s) => s.height > 0 && s.width > 0, { message: 'expected a positive size' });

/** The zod shape of the flags (spread into a verb's options schema). */
export const featureFlagsShape = {
  featuresSize: sizeFlag.optional(),
  featuresResize: z.enum(FEATURE_RESIZE_MODES).optional(),
  featuresRange: z.enum(FEATURE_INPUT_RANGES).optional(),
  featuresOutput: z.string().min(1).optional(),
  featuresInput: z.string().min(1).optional(),
  grayToRgb: z.boolean().optional(),
};

/** The parsed flags. */
export type FeatureFlags = { [K in keyof typeof featureFlagsShape]?: z.output<(typeof featureFlagsShape)[K]> };

/**
 * Add the flags to `command`; `grayToRgb`: also `--gray-to-rgb` / `--no-gray-to-rgb` (`aekit fid`
 * has none: it reads images with the network's channels, as pytorch-fid converts them to RGB).
 */
export function addFeatureFlags(command: Command, opts: { grayToRgb: boolean }): Command {
  command
    .option('--features-size <HxW>', "input size of a network without aekit metadata (default: its input's fixed size)")
    .addOption(new Option('--features-resize <mode>', 'how images reach that size: bilinear (PyTorch, align_corners=False; default), graph (the network resizes), none').choices([...FEATURE_RESIZE_MODES]))
    .addOption(new Option('--features-range <range>', 'the input range it takes (required without aekit metadata): unit [0,1], symmetric [-1,1], byte 0-255').choices([...FEATURE_INPUT_RANGES]))
    .option('--features-output <name>', 'the output holding the features (default: its only output)')
    .option('--features-input <name>', 'the image input (default: its only input)');
  if (opts.grayToRgb) {
    command.option('--gray-to-rgb', "replicate grayscale images to an RGB network's 3 channels (default without metadata)").option('--no-gray-to-rgb', 'do not replicate grayscale images');
  }
  return command;
}

/** The preprocessing fields the flags give (none given: undefined). */
export function featurePreprocess(flags: FeatureFlags): Partial<FeatureExtraction> | undefined {
  const given: Partial<FeatureExtraction> = {
    ...(flags.featuresSize ? { size: flags.featuresSize } : {}),
    ...(flags.featuresResize ? { resize: flags.featuresResize } : {}),
    ...(flags.featuresRange ? { range: flags.featuresRange } : {}),
    ...(flags.featuresOutput ? { output: flags.featuresOutput } : {}),
    ...(flags.featuresInput ? { input: flags.featuresInput } : {}),
    ...(flags.grayToRgb !== undefined ? { grayToRgb: flags.grayToRgb } : {}),
  };
  return Object.keys(given).length > 0 ? given : undefined;
}
