import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ROOT } from '../helpers/daemon-process.js';
import { cycles, importGraph } from '../helpers/import-graph.js';

const graph = importGraph(path.join(ROOT, 'src'));

test('no file of src/ imports itself through others', () => {
  assert.equal(cycles(graph.files), []);
});

test('no folder of src/ imports itself through others (a folder is one layer)', () => {
  assert.equal(cycles(graph.modules), []);
});

test('the check sees real imports (a fake cycle is found)', () => {
  const g = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
    ['d', new Set(['a'])],
  ]);
  assert.equal(cycles(g), [['a', 'b', 'c']]);
  assert.ok(graph.files.get('cli.ts')!.has('version.ts'), 'reads the imports of src/cli.ts');
});

test.run();
