import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseList } from '../../src/lists/list-parser.js';
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

test.run();
