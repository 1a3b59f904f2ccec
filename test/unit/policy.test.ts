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

test('names whose hashes collide are told apart by their bytes', () => {
  // Birthday search for two labels with the same 32-bit FNV-1a hash (the index's hash, taken from the right).
  const fnv = (s: string) => {
    let h = 0x811c9dc5 | 0;
    for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h;
  };
  const seen = new Map<number, string>();
  let pair: [string, string] | null = null;
  for (let i = 0; !pair; i++) {
    const name = `n${i.toString(36).padStart(5, '0')}.example`; // one length, so only the bytes differ
    const other = seen.get(fnv(name));
    if (other !== undefined) pair = [other, name];
    else seen.set(fnv(name), name);
  }
  const [listed, twin] = pair;
  assert.is(fnv(listed), fnv(twin));
  const { policy, group } = build(['x'], { x: [listed] });
  const g = group('g', ['x']);
  assert.is(policy.decide(g, `www.${listed}`).action, 'block');
  assert.is(policy.decide(g, twin).action, 'allow', `${twin} shares ${listed}'s hash but is not listed`);
  assert.is(policy.decide(g, `www.${twin}`).action, 'allow');
});

test('lookups agree with a plain set of suffixes (random lists and names)', () => {
  let seed = 20261124;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const labels = ['a', 'b', 'ab', 'ba', 'x-y', 'com', 'co', 'uk', 'example', '_dns', '0'];
  const name = (n: number) => Array.from({ length: n }, () => labels[rnd(labels.length)]).join('.');
  const listed = new Set(Array.from({ length: 2000 }, () => name(1 + rnd(4))));
  const { index } = build(['x'], { x: [...listed] });
  assert.is(index.size, listed.size);
  const out = new Uint32Array(2);
  for (let i = 0; i < 20_000; i++) {
    const q = name(1 + rnd(6));
    const parts = q.split('.');
    const suffixes = parts.map((_, k) => parts.slice(k).join('.')).filter((s) => listed.has(s));
    index.match(q, out);
    assert.is(out[0] === 1, suffixes.length > 0, q);
    assert.is(index.blockingEntry(q, 0), suffixes[0] ?? null, q);
  }
});

test.run();
