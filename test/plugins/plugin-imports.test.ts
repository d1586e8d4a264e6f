// Plugins use only vecnet's public API: no file under plugins/ imports src/ or nodes/
// other than src/index.ts. The checker itself is shown to catch each way of importing.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forbiddenImports } from './plugin-imports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('no file under plugins/ imports anything of src/ or nodes/ but the public entry point', () => {
  assert.deepEqual(forbiddenImports(path.join(ROOT, 'plugins'), ROOT), []);
});

test('the checker catches static, type, re-export, dynamic and require imports, and ignores comments', () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-plugin-imports-'));
  after(() => fs.rmSync(directory, { recursive: true, force: true }));
  const plugin = path.join(directory, 'bad');
  fs.mkdirSync(path.join(plugin, 'test'), { recursive: true });
  const up = path.relative(plugin, ROOT).split(path.sep).join('/');
  fs.writeFileSync(
    path.join(plugin, 'index.ts'),
    [
      `import { definePlugin } from '${up}/src/index.ts';`, // allowed
      `import { Engine } from '${up}/src/vlib/engine.ts';`,
      `import type { Vnet } from '${up}/src/vnet/vnet.ts';`,
      `export { default } from '${up}/nodes/ip4-input.ts';`,
      `// import '${up}/src/vlib/trace.ts';`,
      `/* import '${up}/src/vlib/frame.ts'; */`,
      `const later = () => import('${up}/src/wire/ip4.ts');`,
      `import 'node:fs';`,
      `import fc from 'fast-check';`,
      `import { nodeBench } from '${up}/bench/node-bench.ts';`, // allowed
      `import './helper.ts';`, // allowed
    ].join('\n'),
  );
  fs.writeFileSync(path.join(plugin, 'test', 'x.test.js'), `const b = require('../${up}/src/vlib/buffer-pool.ts');\n`);
  const problems = forbiddenImports(directory, ROOT).map((p) => p.replace(/^.*?bad\//, 'bad/'));
  assert.deepEqual(problems, [
    `bad/index.ts:2: '${up}/src/vlib/engine.ts'`,
    `bad/index.ts:3: '${up}/src/vnet/vnet.ts'`,
    `bad/index.ts:4: '${up}/nodes/ip4-input.ts'`,
    `bad/index.ts:7: '${up}/src/wire/ip4.ts'`,
    `bad/test/x.test.js:1: '../${up}/src/vlib/buffer-pool.ts'`,
  ]);
});
