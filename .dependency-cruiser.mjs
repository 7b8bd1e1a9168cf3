/**
 * The architecture rules of docs/DESIGN.md, checked by dependency-cruiser on every `npm test`
 * (test/architecture.test.ts; by hand: `npx depcruise src --config .dependency-cruiser.mjs`).
 *
 * Layers: src/config → src/data → src/model → src/train → src/run, with src/tensorboard, src/backends, src/sweep,
 * a thin src/cli on top (bin/ above it) and src/index.ts as the library API.
 *
 * The graph is the one that runs: `import type` is erased first (tsPreCompilationDeps: false), so type imports are
 * free everywhere; `await import()` inside a function (how the CLI and the run layer load TensorFlow.js lazily) is
 * a 'dynamic-import' dependency, which the run-time rules below do not count.
 */
const TFJS = '(^|/)node_modules/@tensorflow/';
/** Imports that load code when the importing module loads. */
const AT_LOAD = { dependencyTypesNot: ['dynamic-import'] };

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-tfjs-in-config-data-tensorboard',
      comment: 'src/config, src/data and src/tensorboard never import TensorFlow.js (`import type` is fine).',
      severity: 'error',
      from: { path: '^src/(config|data|tensorboard)/' },
      to: { path: TFJS },
    },
    {
      name: 'no-tfjs-reached-from-config-data',
      comment:
        'Nor through another module: nothing that src/config or src/data imports may itself load TensorFlow.js, ' +
        'so validation and CLI start-up never load it.',
      severity: 'error',
      from: { path: '^src/(config|data)/' },
      to: { path: TFJS, reachable: true },
    },
    {
      name: 'no-tfjs-at-cli-load',
      comment: 'src/cli loads TensorFlow.js only lazily, inside the commands that train (`await import()` in run()).',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: TFJS, ...AT_LOAD },
    },
    {
      name: 'no-cli-from-below',
      comment: 'The CLI sits on top: only src/cli itself (and bin/) import it; the layers it drives never do.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-index-from-inside',
      comment: 'src/index.ts is the public API, made of the modules; no module imports it back.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'backends-are-a-leaf',
      comment:
        'src/backends (device choice, kernels) is used by the model and the loop and depends on no other layer ' +
        '(only on src/errors.ts); check programs that train a network live outside src (test/helpers).',
      severity: 'error',
      from: { path: '^src/backends/' },
      to: { path: '^src/', pathNot: ['^src/backends/', '^src/errors\\.ts$'] },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles between modules.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
