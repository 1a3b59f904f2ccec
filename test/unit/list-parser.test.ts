import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forEachListEntry, forEachListEntryBytes, parseList } from '../../src/lists/list-parser.js';
import { normaliseDomain } from '../../src/dns/name.js';

test('accepts every documented format', () => {
  const text = [
    '# a comment',
    '! adblock comment',
    '[Adblock Plus 2.0]',
    '',
    'plain.example',
    'UPPER.Example.',
    '0.0.0.0 hosts-zero.example',
    '127.0.0.1 hosts-loop.example other.example # trailing comment',
    ':: hosts-v6.example',
    '||adblock.example^',
    '||important.example^$important',
    '@@||allowed.example^',
    '*.wild.example',
    '  indented.example  ',
    'bücher.de',
    '127.0.0.1 localhost',
    '0.0.0.0 0.0.0.0',
    'windows.example\r',
  ].join('\n');
  const { entries, problems } = parseList(text, 'l.txt');
  assert.equal(problems, []);
  assert.equal(
    entries.map((e) => `${e.allow ? '@' : ''}${e.domain}:${e.line}`),
    [
      'plain.example:5',
      'upper.example:6',
      'hosts-zero.example:7',
      'hosts-loop.example:8',
      'other.example:8',
      'hosts-v6.example:9',
      'adblock.example:10',
      'important.example:11',
      '@allowed.example:12',
      'wild.example:13',
      'indented.example:14',
      'xn--bcher-kva.de:15',
      'windows.example:18',
    ],
  );
});

test('an entry whose comment starts "front-end" is marked as a front-end; other comments are not', () => {
  const text = [
    'xcancel.com                  # front-end: Nitter',
    '0.0.0.0 nitter.example\t#front-end',
    'x.com',
    'twimg.com                    # CDN, not a front-end',
    '# front-end: a comment line, not an entry',
    '||adblock.example^',
  ].join('\n');
  const { entries, problems } = parseList(text, 'x.txt');
  assert.equal(problems, []);
  assert.equal(
    entries.map((e) => `${e.domain}:${e.frontEnd}`),
    ['xcancel.com:true', 'nitter.example:true', 'x.com:false', 'twimg.com:false', 'adblock.example:false'],
  );
});

test('reports bad lines with file, line and reason, and keeps the good ones', () => {
  const text =
    'good.example\nnot a domain\n||x.example^$third-party\n-bad-.example\n||broken\n10.0.0.1\ngood2.example\n' +
    'a'.repeat(64) +
    '.example\n';
  const { entries, problems } = parseList(text, '/lists/x.txt');
  assert.equal(
    entries.map((e) => e.domain),
    ['good.example', 'good2.example'],
  );
  assert.equal(
    problems.map((p) => `${p.file}:${p.line}`),
    ['/lists/x.txt:2', '/lists/x.txt:3', '/lists/x.txt:4', '/lists/x.txt:5', '/lists/x.txt:6', '/lists/x.txt:8'],
  );
  assert.match(problems[0].reason, /one domain per line/);
  assert.match(problems[1].reason, /\$third-party/);
  assert.match(problems[2].reason, /not a domain name/);
  assert.match(problems[4].reason, /IP address/);
  assert.equal(problems[0].text, 'not a domain');
});

test('normaliseDomain lower-cases, strips the root dot and converts IDN', () => {
  assert.is(normaliseDomain('WWW.Example.COM.'), 'www.example.com');
  assert.is(normaliseDomain('_dns.resolver.arpa'), '_dns.resolver.arpa');
  assert.is(normaliseDomain('münchen.de'), 'xn--mnchen-3ya.de');
  assert.type(normaliseDomain('a..b'), 'object');
  assert.type(normaliseDomain('x'.repeat(254)), 'object');
});

test('the byte path (daemon load) gives exactly the entries and problems of the string path', () => {
  const tricky = [
    '\uFEFFfirst.example',
    'plain.example',
    'trailing.dot.example.',
    'two.dots.example..',
    'windows.example\r',
    'dot-cr.example.\r',
    '',
    '\r',
    '.',
    'UPPER.example',
    'a..b.example',
    '-lead.example',
    'trail-.example',
    '_under.example',
    'x_y.example',
    '1.2.3.4',
    'a.123',
    '123.a1',
    'com',
    'a'.repeat(63) + '.example',
    'a'.repeat(64) + '.example',
    Array.from({ length: 50 }, () => 'abcd').join('.') + '.example',
    Array.from({ length: 51 }, () => 'abcd').join('.') + '.example',
    'bücher.de',
    '0.0.0.0 hosts.example',
    '||adblock.example^',
    '@@||allowed.example^',
    '*.wild.example',
    '# comment',
    'spaced.example ',
    'front.example # front-end: X',
    'a/b.example',
  ];
  const alphabet = ['a', 'b', '0', '9', '.', '-', '_', 'A', ' ', '#', '\r', 'é', '*', '|', '^', '@'];
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 3000; i++)
    tricky.push(Array.from({ length: 1 + rand(12) }, () => alphabet[rand(alphabet.length)]).join(''));
  const text = tricky.join('\n');

  const viaString: string[] = [];
  const problemsString: string[] = [];
  forEachListEntry(
    text,
    'l.txt',
    (d, allow, line) => viaString.push(`${allow ? '@' : ''}${d}:${line}`),
    (p) => problemsString.push(`${p.line}:${p.reason}:${p.text.replace('\uFEFF', '')}`),
  );
  const viaBytes: string[] = [];
  const problemsBytes: string[] = [];
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = (offset: number) => bytes.subarray(0, offset).filter((c) => c === 0x0a).length + 1;
  let plain = 0;
  forEachListEntryBytes(
    bytes,
    'l.txt',
    (b, start, end) => {
      plain++;
      viaBytes.push(`${Buffer.from(b.subarray(start, end)).toString('latin1')}:${lineAt(start)}`);
    },
    (d, allow, line) => viaBytes.push(`${allow ? '@' : ''}${d}:${line}`),
    (p) => problemsBytes.push(`${p.line}:${p.reason}:${p.text}`),
  );
  assert.ok(plain > 10, `${plain} lines took the byte path`);
  assert.equal(viaBytes, viaString);
  assert.equal(problemsBytes, problemsString);
});

test.run();
