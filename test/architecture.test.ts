/**
 * The architecture rules (.dependency-cruiser.mjs: DESIGN.md's layer rules) hold for src/, and each rule still
 * finds what it is meant to find (test/fixtures/architecture breaks every rule once).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import config from '../.dependency-cruiser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One line per violation: `rule: from → to` (a cycle as its modules in order). */
async function violations(baseDir: string): Promise<string[]> {
  const rules = config as IConfiguration;
  const r = await cruise(
    ['src'],
    { ...rules.options, baseDir, validate: true, ruleSet: { forbidden: rules.forbidden ?? [] } },
    {},
    { tsConfig: extractTSConfig(path.join(root, 'tsconfig.json')) },
  );
  const out = r.output as ICruiseResult;
  return out.summary.violations
    .map((v) => `${v.rule.name}: ${v.cycle ? [v.from, ...v.cycle.map((c) => c.name)].join(' → ') : `${v.from} → ${v.to.replace(/^.*node_modules\/(@tensorflow\/[^/]+).*$/, '$1')}`}`)
    .sort();
}

describe('architecture (dependency-cruiser)', () => {
  it('src/ follows the layer rules', async () => {
    const found = await violations(root);
    expect(found, `architecture violations:\n${found.join('\n')}`).toEqual([]);
  });

  it('every rule fires on a tree that breaks it, and type-only or lazy tfjs imports pass', async () => {
    const found = await violations(path.join(root, 'test', 'fixtures', 'architecture'));
    expect(found).toEqual([
      'backends-are-a-leaf: src/backends/uses-model.ts → src/model/uses-tf.ts',
      'no-cli-from-below: src/run/uses-cli.ts → src/cli/lazy.ts',
      'no-cycles: src/sweep/a.ts → src/sweep/b.ts → src/sweep/a.ts',
      'no-index-from-inside: src/train/uses-index.ts → src/index.ts',
      'no-tfjs-at-cli-load: src/cli/eager.ts → @tensorflow/tfjs',
      'no-tfjs-in-config-data-tensorboard: src/config/direct.ts → @tensorflow/tfjs',
      'no-tfjs-reached-from-config-data: src/config/direct.ts → @tensorflow/tfjs',
      'no-tfjs-reached-from-config-data: src/data/indirect.ts → @tensorflow/tfjs',
    ]);
  });
});
