/** `aekit serve`: exported artifacts over HTTP (JSON API, demo page), until SIGTERM or Ctrl-C. */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { consoleLogger } from '../../core/log';
import { AekitError } from '../../core/errors';
import { checkAllowedHost } from '../../serve/hosts';
import { EXECUTION_PROVIDERS } from '../../serve/node-session';
import { SERVE_DEFAULTS, SERVE_OPTION_BOUNDS, startServer } from '../../serve/server';
import { intFlag, parseOptions } from '../common';

const EP_NAMES = Object.keys(EXECUTION_PROVIDERS) as [keyof typeof EXECUTION_PROVIDERS, ...(keyof typeof EXECUTION_PROVIDERS)[]];

/**
 * A whole-number flag for the server option `option`, in the flag's own unit (`--max-body-kb` is
 * KiB where the option is bytes): out of range, the error names the flag, the unit and the range.
 */
function boundedFlag(option: keyof typeof SERVE_OPTION_BOUNDS, unit: string = SERVE_OPTION_BOUNDS[option].unit, scale = 1) {
  const [lo, hi] = SERVE_OPTION_BOUNDS[option].range.map((v, i) => (i === 0 ? Math.ceil(v / scale) : Math.floor(v / scale)));
  return intFlag.superRefine((value, ctx) => {
    if (value < lo || value > hi) ctx.addIssue({ code: 'custom', message: `expected a whole number of ${unit} in ${lo}..${hi}, got ${value}` });
  });
}

/** `--allowed-hosts a,b`: each entry checked as the server would, the error naming the flag. */
const allowedHostsFlag = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    try {
      return text.split(',').map((entry) => checkAllowedHost(entry));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof AekitError ? error.message.replace(/^allowedHosts: /, '') : String(error) });
      return z.NEVER;
    }
  });

// Commander supplies every default (as strings), so the number flags need no defaults here.
const optionsSchema = z.object({
  port: boundedFlag('port', 'port number'),
  host: z.string().min(1).default(SERVE_DEFAULTS.host),
  allowedHosts: allowedHostsFlag,
  ep: z.enum(EP_NAMES).default(SERVE_DEFAULTS.executionProvider),
  strictEp: z.boolean().default(false),
  maxBatch: boundedFlag('maxBatch'),
  maxDelayMs: boundedFlag('maxDelayMs'),
  maxRows: boundedFlag('maxRowsPerRequest'),
  maxBodyKb: boundedFlag('maxBodyBytes', 'KiB', 1024),
  timeoutMs: boundedFlag('requestTimeoutMs'),
  shutdownTimeoutMs: boundedFlag('shutdownTimeoutMs'),
  threads: boundedFlag('intraOpNumThreads'),
});

/** The `serve` verb: options checked with zod, then {@link startServer} until SIGTERM or SIGINT. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve exported decoders, encoders and classifiers over HTTP on onnxruntime-node: JSON/float32/PNG API (see /openapi.json), dynamic batching, and a demo page at / that runs the decoder in the browser.')
    .argument('<model.onnx|dir...>', 'artifacts, or folders of them (grouped into models by run id)')
    .option('--port <n>', 'port (0 = any free port)', String(SERVE_DEFAULTS.port))
    .option('--host <address>', 'interface to listen on', SERVE_DEFAULTS.host)
    .option('--allowed-hosts <names>', 'comma-separated Host names to answer besides loopback names and IP addresses (.example.org: a domain and its subdomains; *: any); default: loopback only on a loopback --host, any otherwise')
    .addOption(new Option('--ep <provider>', 'onnxruntime execution provider').choices(EP_NAMES).default(SERVE_DEFAULTS.executionProvider))
    .option('--strict-ep', 'refuse to start if the execution provider cannot be used (default: fall back to cpu with a warning)')
    .option('--max-batch <n>', 'most rows merged into one onnxruntime run (1 = no batching)', String(SERVE_DEFAULTS.maxBatch))
    .option('--max-delay-ms <ms>', 'longest a request waits for others to share its run', String(SERVE_DEFAULTS.maxDelayMs))
    .option('--max-rows <n>', 'most latents/images/samples per request', String(SERVE_DEFAULTS.maxRowsPerRequest))
    .option('--max-body-kb <n>', 'largest request body in KiB', String(SERVE_DEFAULTS.maxBodyBytes / 1024))
    .option('--timeout-ms <ms>', 'limit for each phase of a request: headers, body (408 when late) and answer (503)', String(SERVE_DEFAULTS.requestTimeoutMs))
    .option('--shutdown-timeout-ms <ms>', 'on SIGTERM, how long to wait for requests in flight before answering them 503 and closing', String(SERVE_DEFAULTS.shutdownTimeoutMs))
    .option('--threads <n>', 'onnxruntime intra-op threads per session', String(SERVE_DEFAULTS.intraOpNumThreads))
    .addHelpText(
      'after',
      `
Examples:
  aekit serve runs/quickstart/onnx                       # encoder + decoder of one run
  aekit serve exports/ --port 0                          # every run in exports/<run>/, any free port
  aekit serve decoder.onnx --max-batch 1                 # no dynamic batching
  aekit serve models/                                    # the shipped MNIST classifiers: POST /v1/models/<name>/classify
  aekit serve exports/ --host 0.0.0.0 --allowed-hosts models.example.org
  env $(aekit browser --vulkan-env) aekit serve decoder.onnx --ep webgpu --strict-ep   # WebGPU on SwiftShader, no GPU

  curl -s localhost:8080/v1/models                      # names, latent sizes, classes
  curl -s localhost:8080/v1/models/quickstart/decode -H 'content-type: application/json' -d '{"z": [[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]}'
  curl -s localhost:8080/v1/models/quickstart/sample -H 'content-type: application/json' -H 'accept: image/png' -d '{"n": 16, "seed": 1}' > grid.png

The v2 inference protocol (KServe / Triton HTTP, with Triton's binary tensor data extension) is
served under /v2, one model per artifact named as \`aekit export --triton\` names it (<run>-<part>):
  curl -s localhost:8080/v2/models/quickstart-decoder   # inputs, outputs, shapes
  curl -s localhost:8080/v2/models/quickstart-decoder/infer -H 'content-type: application/json' -d '{"inputs": [{"name": "z", "shape": [1, 16], "datatype": "FP32", "data": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}'

Request bodies must be sent as application/json (optionally with Content-Encoding: gzip).
SIGTERM or Ctrl-C stops accepting (what arrives meanwhile gets 503), finishes the requests in
flight within --shutdown-timeout-ms (then answers them 503), and exits 0.
AEKIT_LOG=debug logs every merged batch.`,
    )
    .action(async (locations: string[], raw: Record<string, unknown>) => {
      const flags = parseOptions(optionsSchema, raw);
      const logger = consoleLogger();
      const server = await startServer({
        models: locations,
        host: flags.host,
        allowedHosts: flags.allowedHosts,
        port: flags.port,
        executionProvider: flags.ep,
        strictExecutionProvider: flags.strictEp,
        maxBatch: flags.maxBatch,
        maxDelayMs: flags.maxDelayMs,
        maxRowsPerRequest: flags.maxRows,
        maxBodyBytes: flags.maxBodyKb * 1024,
        requestTimeoutMs: flags.timeoutMs,
        shutdownTimeoutMs: flags.shutdownTimeoutMs,
        intraOpNumThreads: flags.threads,
        logger,
      });
      process.stdout.write(`listening on ${server.url} (demo page ${server.url}/, API ${server.url}/openapi.json)\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.info(`${signal}: finishing ${server.health().inFlight} in-flight request(s), then exiting`);
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          server.close().then(({ forced }) => {
            logger.info(forced ? 'stopped (some connections were cut)' : 'stopped');
            resolve();
          }, resolve);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
