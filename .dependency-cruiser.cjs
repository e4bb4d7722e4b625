/**
 * The import rules of aekit's source (docs/architecture.md). `npm test` runs them
 * (test/architecture.test.ts); `npx depcruise src` shows the same report.
 *
 * Stages, lowest first. A stage may import its own files and any lower stage, never a higher one:
 * core -> data -> models -> artifact -> run -> export -> eval -> train -> serve -> bench -> cli.
 */
const STAGES = ['core', 'data', 'models', 'artifact', 'run', 'export', 'eval', 'train', 'serve', 'bench', 'cli'];

const layerRules = STAGES.map((stage, i) => ({
  name: `layer-${stage}`,
  comment: `${stage} sits below ${STAGES.slice(i + 1).join(', ') || 'nothing'}: it must not import from them`,
  severity: 'error',
  from: { path: `^src/${stage}/` },
  to: { path: `^src/(${STAGES.slice(i + 1).join('|') || '$^'})/` },
})).filter((rule) => rule.to.path !== '^src/($^)/');

/** Files esbuild bundles into the browser module (dist/web/aekit-web.js): no Node built-ins, no Node-only packages. */
const BROWSER_FILES = '^src/(serve/web/|artifact/(metadata|metadata-bytes|info|prior|train-step-format)\\.ts$|core/errors\\.ts$|data/types\\.ts$|models/types\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle means two files are one module in two pieces',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'browser-code-is-pure',
      comment: 'the browser module bundles these files: they may import only each other, zod/mini and onnxruntime-web',
      severity: 'error',
      from: { path: BROWSER_FILES },
      to: { pathNot: [BROWSER_FILES, 'node_modules/(zod|onnxruntime-web)/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'one-onnxruntime-node-file',
      comment: 'onnxruntime-node is loaded by src/artifact/runtime.ts alone',
      severity: 'error',
      from: { pathNot: '^src/artifact/runtime\\.ts$' },
      to: { path: 'node_modules/onnxruntime-node/' },
    },
    {
      name: 'one-onnxruntime-web-file',
      comment: 'onnxruntime-web is imported by src/serve/web/ort.ts (the browser) and src/artifact/runtime.ts (Node) alone',
      severity: 'error',
      from: { pathNot: '^src/(serve/web/ort|artifact/runtime)\\.ts$' },
      to: { path: 'node_modules/onnxruntime-web/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Worktrees link node_modules: keep the linked path so the node_modules rules match there too.
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
