/** Unit: decoding web proxies' names back to the site they show (issue 24). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { domainToASCII } from 'node:url';
import { decodeAmpCache, decodeProxyName, decodeTranslateGoog } from '../../src/verdict/proxy-names.js';

/** The AMP cache subdomain of a host, written from amp.dev's description (the test's own encoder). */
function ampLabel(host: string): string {
  const unicode = host; // the hosts below are already Unicode where they are IDNs
  let label = unicode.replace(/-/g, '--').replace(/\./g, '-');
  if (label.slice(2, 4) === '--') label = `0-${label}-0`;
  return domainToASCII(label);
}

test('Google Translate: plain and hyphenated hosts, the 1- and 0- (IDN) markers', () => {
  assert.is(decodeTranslateGoog('www-facebook-com'), 'www.facebook.com');
  assert.is(decodeTranslateGoog('x-com'), 'x.com');
  assert.is(decodeTranslateGoog('www-bbc-co-uk'), 'www.bbc.co.uk');
  assert.is(decodeTranslateGoog('my--site-co-uk'), 'my-site.co.uk');
  assert.is(decodeTranslateGoog('1--800--flowers-com'), '1-800-flowers.com', 'a host starting 1- is not the long-host marker');
  assert.is(decodeTranslateGoog('1-facebook-com'), 'facebook.com', 'long host: the label carries its tail');
  assert.is(decodeTranslateGoog('0-bcher--kva-de'), 'xn--bcher-kva.de', 'IDN: xn-- put back');
});

test('AMP caches: plain, hyphenated and internationalised hosts round-trip through the AMP encoding', () => {
  for (const host of ['www.facebook.com', 'www.instagram.com', 'news-site.example.org', 'a-b.c-d.example']) {
    assert.is(decodeAmpCache(ampLabel(host)), host, host);
  }
  assert.is(ampLabel('bücher.de'), 'xn--bcher-de-65a');
  assert.is(decodeAmpCache('xn--bcher-de-65a'), 'xn--bcher-kva.de', 'punycoded label → the host in punycode');
  assert.is(decodeAmpCache(ampLabel('ab-c.example')), 'ab-c.example', 'the 0-…-0 wrapper');
});

test('invalid encodings are left alone', () => {
  for (const label of ['foo', '-www-x-com', 'www-x-com-', 'a--', 'www-x--com--']) {
    assert.is(decodeTranslateGoog(label), null, label);
  }
  // An AMP hash fallback (base32 of a SHA-256) names no host.
  assert.is(decodeAmpCache('nfihbygxqgy5snrkfjqr3i3r5zfmw2u5rwqxfdbcwnyd6tfwfhma'), null);
  assert.is(decodeAmpCache('xn--'), null);
  for (const name of [
    'translate.goog',
    'foo.translate.goog',
    'a.www-facebook-com.translate.goog',
    'www-facebook-com.translate.goog.evil.example',
    'www-facebook-com.example',
  ]) {
    assert.is(decodeProxyName(name), null, name);
  }
});

test('decodeProxyName: the service and the site, outermost first, through a proxy of a proxy', () => {
  assert.equal(decodeProxyName('www-facebook-com.translate.goog'), {
    services: ["Google Translate's website proxy"],
    hosts: ['www.facebook.com'],
  });
  assert.equal(decodeProxyName('www-facebook-com.cdn.ampproject.org')?.hosts, ['www.facebook.com']);
  assert.equal(decodeProxyName('www-instagram-com.bing-amp.com')?.hosts, ['www.instagram.com']);
  // Google's own example of its SXG cache (Search Central, "Debug the Google SXG cache").
  assert.equal(decodeProxyName('signed--exchange--testing-dev.webpkgcache.com'), {
    services: ['the Google SXG Cache'],
    hosts: ['signed-exchange-testing.dev'],
  });
  assert.equal(decodeProxyName('www-facebook-com.webpkgcache.com')?.hosts, ['www.facebook.com']);
  assert.equal(decodeProxyName('www--facebook--com-translate-goog.translate.goog'), {
    services: ["Google Translate's website proxy", "Google Translate's website proxy"],
    hosts: ['www-facebook-com.translate.goog', 'www.facebook.com'],
  });
  assert.equal(decodeProxyName('www--facebook--com-cdn-ampproject-org.translate.goog')?.hosts, [
    'www-facebook-com.cdn.ampproject.org',
    'www.facebook.com',
  ]);
});

test.run();
