/**
 * The shipped platform lists (blocklists/social-media/) through the real loader and policy: each
 * category blocks its platform's real hostnames (from the AdGuard/NextDNS/v2fly catalogues and the
 * platforms' own docs, as the list headers say) and nothing else named here; no domain is in two
 * platform lists unless shared on purpose; front-ends are blocked as their platform.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseList } from '../../src/lists/list-parser.js';
import { underDomain } from '../../src/exceptions/exception-set.js';
import { blockedBy, loadShipped, SOCIAL_MEDIA_DIR } from '../helpers/shipped-policy.js';

const shipped = await loadShipped();

/** The names in a whitespace-separated list. */
const names = (s: TemplateStringsArray): string[] => s[0].split(/\s+/).filter(Boolean);

/** Per platform: names its category must block, and names it must not. */
const PLATFORMS: Record<string, { block: string[]; allow: string[] }> = {
  facebook: {
    block: names`
www.facebook.com m.facebook.com web.facebook.com b-www.facebook.com api.facebook.com
graph.facebook.com gateway.facebook.com lithium.facebook.com lookaside.facebook.com
edge-chat.facebook.com chat-e2ee-mini.facebook.com connect.facebook.net static.xx.fbcdn.net
fbcdn.com fbsbx.com fbsbx.net fb.com fb.me fb.gg fb.watch fbwat.ch fburl.com www.messenger.com m.me
fbmessenger.com thefacebook.com
`,
    allow: names`
reactjs.org react.dev react.com rocksdb.org botorch.org pyrobot.org flow.org hacklang.org
fasttext.cc pytorch.org meta.com about.meta.com www.instagram.com web.whatsapp.com notfacebook.com
www.bbc.co.uk
`,
  },
  instagram: {
    block: names`
www.instagram.com i.instagram.com graph.instagram.com static.cdninstagram.com
scontent-lhr8-1.cdninstagram.com igcdn.com igsonar.com instagr.am ig.me igtv.com
`,
    allow: names`
ig.com www.ig.com www.facebook.com static.xx.fbcdn.net www.threads.net www.theguardian.com
`,
  },
  'twitter-x': {
    block: names`
x.com www.x.com api.x.com twitter.com api.twitter.com mobile.twitter.com pbs.twimg.com abs.twimg.com
video.twimg.com twvid.com twttr.net twtrdns.net twitter.jp cms-twdigitalassets.com t.co twttr.com
ads-twitter.com tweetdeck.com pscp.tv grok.x.com
`,
    allow: names`
x.ai console.x.ai grok.com x.org www.x.org xkcd.com twitch.tv www.bbc.co.uk
`,
  },
  tiktok: {
    block: names`
www.tiktok.com m.tiktok.com analytics.tiktok.com tiktokv.com tiktokv.us tiktokv.eu tiktokw.us
tiktokcdn.com tiktokcdn-us.com tiktokcdn-eu.com tiktokeu-cdn.com ttwstatic.com ttlivecdn.com
musical.ly muscdn.com byteoversea.com ibytedtos.com ibyteimg.com www.douyin.com iesdouyin.com
`,
    allow: names`
capcut.com www.capcut.com lemon8-app.com bytedance.com www.bytedance.com www.youtube.com
www.bbc.co.uk
`,
  },
  snapchat: {
    block: names`
www.snapchat.com web.snapchat.com accounts.snapchat.com sc-cdn.net sc-static.net sc-gw.com
sc-prod.net sc-jpl.com snap-dev.net snapkit.co snapads.com feelinsonice-hrd.appspot.com
feelinsonice.appspot.com impala-media-production.s3.amazonaws.com
`,
    allow: names`
bitmoji.com www.bitmoji.com bitmoji.app snap.com appspot.com s3.amazonaws.com www.bbc.co.uk
`,
  },
  threads: {
    block: names`threads.net www.threads.net threads.com www.threads.com`,
    allow: names`
www.instagram.com scontent-lhr8-1.cdninstagram.com threadless.com www.facebook.com
`,
  },
  reddit: {
    block: names`
www.reddit.com old.reddit.com oauth.reddit.com i.redd.it v.redd.it redd.it www.redditstatic.com
redditmedia.com redditspace.com redditmail.com reddit.app.link reddit.map.fastly.net
`,
    allow: names`
redditinc.com www.redditinc.com redditstatus.com app.link fastly.net news.ycombinator.com
www.bbc.co.uk
`,
  },
  discord: {
    block: names`
discord.com discord.gg gateway.discord.gg cdn.discordapp.com media.discordapp.net discord.media
discordcdn.com discord.gift discord.gifts dis.gd discordsays.com
discord-attachments-uploads-prd.storage.googleapis.com
`,
    allow: names`storage.googleapis.com discourse.org discordmerch.com www.bbc.co.uk`,
  },
  pinterest: {
    block: names`
www.pinterest.com pinterest.co.uk www.pinterest.co.uk i.pinimg.com pin.it pinterest.net pinterest.de
`,
    allow: names`pinterest.engineering www.bbc.co.uk www.etsy.com`,
  },
  tumblr: {
    block: names`
www.tumblr.com staff.tumblr.com 64.media.tumblr.com tmblr.co safe.txmblr.com assets.txmblr.com
`,
    allow: names`wordpress.com automattic.com www.bbc.co.uk`,
  },
  bluesky: {
    block: names`
bsky.app go.bsky.app cdn.bsky.app public.api.bsky.app bsky.social bsky.network api.bsky.chat
main.bsky.dev
`,
    allow: names`
blueskyweb.xyz atproto.com mastodon.social joinmastodon.org www.bbc.co.uk
`,
  },
  whatsapp: {
    block: names`
www.whatsapp.com web.whatsapp.com whatsapp.net mmg.whatsapp.net g.whatsapp.net wa.me whatsapp.info
`,
    allow: names`www.facebook.com signal.org www.bbc.co.uk`,
  },
  youtube: {
    block: names`
www.youtube.com m.youtube.com music.youtube.com youtubei.googleapis.com youtube.googleapis.com
youtubeembeddedplayer.googleapis.com www.youtube-nocookie.com youtu.be yt.be i.ytimg.com
yt3.ggpht.com redirector.googlevideo.com blog.youtube www.youtubekids.com youtubeeducation.com
youtube.co.uk youtube-ui.l.google.com
`,
    allow: names`
google.com www.google.com www.googleapis.com ggpht.com lh3.ggpht.com classroom.google.com
docs.google.com vimeo.com www.bbc.co.uk
`,
  },
};

/** Names no platform list may block: open-source projects, news and school sites, other products. */
const NO_PLATFORM = names`
reactjs.org react.dev rocksdb.org botorch.org pytorch.org github.com stackoverflow.com
scratch.mit.edu www.bbc.co.uk www.theguardian.com news.sky.com en.wikipedia.org www.gov.uk x.ai
grok.com gemini.com ig.com capcut.com bitmoji.com meta.com classroom.google.com
login.microsoftonline.com teams.microsoft.com appspot.com s3.amazonaws.com storage.googleapis.com
akamaihd.net fastly.net adminforge.de privacyredirect.com nadeko.net whatever.social
`;

/** Front-ends: blocked as, and recorded as, their platform. */
const FRONT_ENDS: Record<string, string[]> = {
  'twitter-x': names`
xcancel.com nitter.net nitter.poast.org nitter.privacyredirect.com lightbrd.com
`,
  instagram: names`
imginn.com www.imginn.com picuki.com www.picuki.com dumpor.com picnob.com kittygr.am
`,
  tiktok: names`
proxitok.pabloferreiro.es proxitok.privacydev.net cringe.whatever.social
`,
  youtube: names`
inv.nadeko.net invidious.nerdvpn.de piped.video pipedapi.kavin.rocks api.piped.private.coffee
`,
  reddit: names`safereddit.com redlib.catsarch.com redlib.nadeko.net teddit.net`,
  tumblr: names`priviblur.pussthecat.org`,
};

/**
 * Domains in more than one platform list on purpose, with the reason. Empty: Meta's and Google's
 * platforms have their own hostnames, and a CDN shared by two platforms would make allowing one
 * platform to a group break it when the other is blocked.
 */
const SHARED_ON_PURPOSE: Record<string, string> = {};

for (const [category, { block, allow }] of Object.entries(PLATFORMS)) {
  test(`${category}: blocks the platform's hostnames and nothing else named`, () => {
    for (const name of block)
      assert.is(blockedBy(shipped.decideIn(category, name)), category, `${name} must be blocked by ${category}`);
    for (const name of allow)
      assert.is(blockedBy(shipped.decideIn(category, name)), null, `${name} must not be blocked by ${category}`);
  });
}

test('every platform file has a table above, and the config loads each one as its category', () => {
  const files = readdirSync(SOCIAL_MEDIA_DIR).filter((f) => f.endsWith('.txt'));
  assert.equal(files.map((f) => f.replace(/\.txt$/, '')).sort(), Object.keys(PLATFORMS).sort());
  for (const f of files) {
    assert.equal(shipped.loaded.categoryFiles.get(f.replace(/\.txt$/, '')), [
      path.join(shipped.loaded.file, '..', 'blocklists/social-media', f),
    ]);
  }
});

test('no platform list blocks open-source projects, news sites, xAI, or other products', () => {
  const all = shipped.blocking(...Object.keys(PLATFORMS));
  for (const name of NO_PLATFORM) assert.is(blockedBy(shipped.policy.decide(all, name)), null, name);
});

test('front-ends are blocked as their platform (recorded as that platform), follow its group rules', async () => {
  const all = shipped.blocking(...Object.keys(PLATFORMS));
  for (const [platform, names] of Object.entries(FRONT_ENDS)) {
    for (const name of names) {
      const d = shipped.policy.decide(all, name);
      assert.is(blockedBy(d), platform, name);
      assert.ok(d.action === 'block' && d.category.recordBlocked, `${name}: a blocked attempt is recorded`);
      const line = readFileSync(path.join(SOCIAL_MEDIA_DIR, `${platform}.txt`), 'utf8')
        .split('\n')
        .find((l) => l.split(/\s/)[0] === (d.action === 'block' ? d.entry : ''));
      assert.match(line ?? '', /# front-end/, `${name}: its entry is marked "# front-end"`);
    }
  }
  // The quick-start config: the default group blocks X, the sixth form is given everything.
  const example = await loadShipped('config/example.yaml');
  const group = (n: string) => example.policy.groups.get(n)!;
  for (const name of FRONT_ENDS['twitter-x']) {
    assert.is(blockedBy(example.policy.decide(group('default'), name)), 'twitter-x', name);
    assert.is(blockedBy(example.policy.decide(group('sixth-form'), name)), null, name);
  }
});

/** Entries of different lists where one covers the other (equal, or one a subdomain of the other). */
function crossListOverlaps(lists: Record<string, string[]>): { pair: string; domains: [string, string] }[] {
  const out: { pair: string; domains: [string, string] }[] = [];
  const names = Object.keys(lists);
  names.forEach((a, i) => {
    for (const b of names.slice(i + 1)) {
      for (const da of lists[a]) {
        for (const db of lists[b]) {
          if (underDomain(da, db) || underDomain(db, da)) out.push({ pair: `${da} (${a}) / ${db} (${b})`, domains: [da, db] });
        }
      }
    }
  });
  return out;
}

function platformEntries(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of readdirSync(SOCIAL_MEDIA_DIR).filter((f) => f.endsWith('.txt'))) {
    const { entries, problems } = parseList(readFileSync(path.join(SOCIAL_MEDIA_DIR, f), 'utf8'), f);
    assert.equal(problems, [], `${f} parses cleanly`);
    out[f.replace(/\.txt$/, '')] = entries.map((e) => e.domain);
  }
  return out;
}

test('the overlap check finds equal and nested entries across lists', () => {
  const found = crossListOverlaps({ a: ['x.example', 'y.example'], b: ['sub.x.example'], c: ['y.example', 'z.example'] });
  assert.equal(
    found.map((o) => o.pair),
    ['x.example (a) / sub.x.example (b)', 'y.example (a) / y.example (c)'],
  );
});

test('no domain is in two platform lists unless shared on purpose', () => {
  const overlaps = crossListOverlaps(platformEntries()).filter((o) => !o.domains.every((d) => d in SHARED_ON_PURPOSE));
  assert.equal(
    overlaps.map((o) => o.pair),
    [],
  );
});

test('no list has an entry already covered by another entry of the same list', () => {
  for (const [category, domains] of Object.entries(platformEntries())) {
    const redundant = domains.filter((d) => domains.some((o) => o !== d && underDomain(d, o)));
    assert.equal(redundant, [], category);
  }
});

test('each list says what it covers, how it was checked (catalogue and date) and how to report a miss', () => {
  for (const f of readdirSync(SOCIAL_MEDIA_DIR).filter((f) => f.endsWith('.txt'))) {
    const header = readFileSync(path.join(SOCIAL_MEDIA_DIR, f), 'utf8').split(/\n(?!#)/)[0];
    assert.match(header, /Checked \d{4}-\d{2}-\d{2} against/, f);
    assert.match(header, /HostlistsRegistry|domain-list-community/, f);
    assert.match(header, /Report a miss/, f);
  }
});

test.run();
