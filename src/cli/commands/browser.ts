/**
 * `aekit browser`: which Chromium aekit drives (src/core/browser.ts: AEKIT_CHROMIUM, else a system
 * one, else the one bundled in @sparticuz/chromium), whether it gives WebGPU, and the environment
 * that runs onnxruntime-node's WebGPU provider on the bundled SwiftShader without a GPU.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { checkWebGpu, findChromium, softwareVulkan } from '../../core/browser';
import { AekitError, isAekitError } from '../../core/errors';
import { consoleLogger } from '../../core/log';
import { parseOptions } from '../common';

const optionsSchema = z.object({
  vulkanEnv: z.boolean().default(false),
  check: z.boolean().default(false),
});

/** The `browser` verb. */
export function browserCommand(): Command {
  return new Command('browser')
    .description(
      'Show the Chromium aekit uses for browser work (AEKIT_CHROMIUM, else a system Chromium, else the one bundled in @sparticuz/chromium) and where its SwiftShader (Vulkan on the CPU) is.',
    )
    .option('--check', 'launch it and ask a page on 127.0.0.1 for a WebGPU adapter')
    .option('--vulkan-env', 'print only LD_LIBRARY_PATH=... and VK_ICD_FILENAMES=... lines that put onnxruntime-node\'s WebGPU provider on SwiftShader')
    .addHelpText(
      'after',
      `
Examples:
  aekit browser
  aekit browser --check
  env $(aekit browser --vulkan-env) aekit serve decoder.onnx --ep webgpu --strict-ep`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const logger = consoleLogger();
      if (flags.vulkanEnv) {
        const vulkan = await softwareVulkan();
        process.stdout.write(Object.entries(vulkan.env).map(([key, value]) => `${key}=${value}\n`).join(''));
        return;
      }
      const chromium = await findChromium({ logger });
      process.stdout.write(`chromium: ${chromium.description}\n`);
      const vulkan = await softwareVulkan().catch((error: unknown) => {
        if (isAekitError(error)) return error;
        throw error;
      });
      process.stdout.write(vulkan instanceof AekitError ? `swiftshader: none (${vulkan.message})\n` : `swiftshader: ${vulkan.icd}\n`);
      if (!flags.check) return;
      const check = await checkWebGpu();
      if (!check.adapter) throw new AekitError('BACKEND_UNAVAILABLE', `no WebGPU in ${check.chromium.description}: ${check.reason}`);
      process.stdout.write(`webgpu: ${check.adapter}\n`);
    });
}
