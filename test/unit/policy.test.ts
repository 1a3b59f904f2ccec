import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainIndex } from '../../src/policy/domain-index.js';
import { Policy, type CompiledGroup } from '../../src/policy/policy.js';
import type { CategoryInfo } from '../../src/policy/categories.js';

const info = (name: string): CategoryInfo => ({
  name,
  signal: null,
  severity: 'low',
  answer: 'configured',
  everyone: false,
  recordBlocked: true,
  locked: false,
});

/** A decision with the category as its name, for comparisons. */
const named = (d: ReturnType<Policy['decide']>) => (d.action === 'block' ? { ...d, category: d.category.name } : d);

function build(categories: string[], lists: Record<string, string[]>) {
  const index = new DomainIndex(categories.length);
  categories.forEach((c, i) => {
    for (const d of lists[c] ?? []) index.add(d.replace(/^@/, ''), i, d.startsWith('@'));
  });
  const group = (name: string, block: string[]): CompiledGroup => ({ name, blockMask: Policy.groupMask(categories, block) });
  return { index, group, policy: new Policy(categories.map(info), index, new Map()) };
}

test('an entry blocks the domain and all its subdomains, nothing else', () => {
  const { policy, group } = build(['facebook'], { facebook: ['facebook.com'] });
  const g = group('students', ['facebook']);
  for (const name of ['facebook.com', 'www.facebook.com', 'a.b.c.facebook.com']) {
    assert.equal(named(policy.decide(g, name)), { action: 'block', category: 'facebook', entry: 'facebook.com' }, name);
  }
  for (const name of ['notfacebook.com', 'facebook.com.evil.example', 'com', 'facebook.co', '']) {
    assert.is(policy.decide(g, name).action, 'allow', name);
  }
});

test('the most specific entry is reported', () => {
  const { policy, group } = build(['x'], { x: ['example.com', 'deep.example.com'] });
  assert.equal(named(policy.decide(group('g', ['x']), 'a.deep.example.com')), {
    action: 'block',
    category: 'x',
    entry: 'deep.example.com',
  });
});

test('a group only blocks its own categories', () => {
  const { policy, group } = build(['facebook', 'instagram'], { facebook: ['facebook.com'], instagram: ['instagram.com'] });
  const g = group('staff', ['instagram']);
  assert.is(policy.decide(g, 'facebook.com').action, 'allow');
  assert.is(policy.decide(g, 'instagram.com').action, 'block');
  assert.is(policy.decide(group('none', []), 'instagram.com').action, 'allow');
});

test('allow entries beat block entries of the same category only', () => {
  const { policy, group } = build(['a', 'b'], { a: ['example.com', '@ok.example.com'], b: ['ok.example.com'] });
  assert.is(policy.decide(group('g', ['a']), 'www.ok.example.com').action, 'allow');
  assert.is(policy.decide(group('g', ['a']), 'other.example.com').action, 'block');
  const both = policy.decide(group('g', ['a', 'b']), 'ok.example.com');
  assert.equal(named(both), { action: 'block', category: 'b', entry: 'ok.example.com' });
});

test('more than 32 categories use several mask words', () => {
  const cats = Array.from({ length: 70 }, (_, i) => `c${i}`);
  const lists: Record<string, string[]> = {};
  cats.forEach((c) => (lists[c] = [`${c}.example`]));
  const { policy, group, index } = build(cats, lists);
  assert.is(index.words, 3);
  const g = group('g', ['c69', 'c33']);
  assert.equal(named(policy.decide(g, 'www.c69.example')), { action: 'block', category: 'c69', entry: 'c69.example' });
  assert.equal(named(policy.decide(g, 'c33.example')), { action: 'block', category: 'c33', entry: 'c33.example' });
  assert.is(policy.decide(g, 'c0.example').action, 'allow');
});

test('the index grows past its initial capacity', () => {
  const { index, policy, group } = build(['big'], { big: Array.from({ length: 5000 }, (_, i) => `d${i}.example`) });
  assert.is(index.size, 5000);
  assert.is(policy.decide(group('g', ['big']), 'x.d4999.example').action, 'block');
});

test.run();
