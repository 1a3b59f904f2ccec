/** The `alerts:` config section and console.public_url: defaults, and mistakes named by YAML path. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { readAlertSettings, AlertSettingsError } from '../../src/alerts/alert-settings.js';
import { tempDir } from '../helpers/daemon-process.js';

const BASE = `
upstream: { servers: ["192.0.2.53:53"] }
groups: { default: {} }
`;

async function load(yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir({ ...files, 'c.yaml': BASE + yaml });
  return loadConfig(path.join(dir, 'c.yaml'));
}

async function problems(yaml: string, files: Record<string, string> = {}): Promise<string[]> {
  try {
    await load(yaml, files);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('off unless configured; with a channel: high severity at once, 20 s grouping, 30 min repeats, 20 an hour', async () => {
  assert.is((await load('')).config.alerts, undefined);
  const a = (
    await load('alerts: { email: { smtp: "smtp://mail.school.example:587", from: "w@s.example", to: ["d@s.example"] } }')
  ).config.alerts!;
  assert.equal(
    [a.immediate, a.group_seconds, a.repeat_minutes, a.max_per_hour, a.email!.require_tls, a.digest],
    [['high'], 20, 30, 20, true, undefined],
  );
});

test('mistakes are named by their YAML path', async () => {
  const p = await problems(`alerts:
  email: { smtp: "smtp://u:p@mail.school.example", from: nobody, to: [] }
  webhook: { url: "ftp://x.example", url_file: f, format: teams2 }
  immediate: [vpn, high]
  group_seconds: 90
  digest: { at: "25:00" }
console: { public_url: "filter.school.example" }
`);
  const text = p.join('\n');
  assert.match(text, 'alerts.email.smtp: has a user or password: put the whole URL in a url_file');
  assert.match(text, 'alerts.email.from: is not an e-mail address');
  assert.match(text, 'alerts.email.to');
  assert.match(text, 'alerts.webhook.url: must start with https:// or http://');
  assert.match(text, 'alerts.webhook.format');
  assert.match(text, 'alerts.immediate[0]: "vpn" is neither a signal kind');
  assert.match(text, 'alerts.group_seconds');
  assert.match(text, 'alerts.digest.at: is not a time');
  assert.match(text, 'console.public_url: is not a URL');
  assert.equal(await problems('alerts: { immediate: [tunnel] }'), [
    'alerts: name a channel: email, webhook or both (or leave the alerts section out) (line 4)',
  ]);
  assert.match(
    (await problems('alerts: { webhook: { url: "https://h.example/x" }, digest: { at: "16:00", to: ["a@b.example"] } }')).join(),
    'digest.to needs the email channel',
  );
  assert.match((await problems('alerts: { webhook: { url_file: missing } }')).join(), 'alerts.webhook.url_file: cannot read');
});

test("url_file: its URL is used, its host must be smtp's, its content never shown in errors", async () => {
  const yaml = (file: string) =>
    `alerts: { email: { smtp: "smtp://mail.school.example:587", url_file: ${file}, from: "w@s.example", to: ["d@s.example"] } }\nconsole: { public_url: "https://f.example/" }`;
  const ok = await readAlertSettings(await load(yaml('u'), { u: 'smtp://w:pw%21@mail.school.example:587\n' }));
  assert.is(ok!.email!.url, 'smtp://w:pw%21@mail.school.example:587');
  assert.is(ok!.publicUrl, 'https://f.example');
  for (const [content, msg] of [
    ['smtp://w:hunter2@other.example:587', /its server \(other\.example:587\) is not alerts\.email\.smtp's/],
    ['hunter2', /does not hold a URL/],
    ['https://w:hunter2@mail.school.example', /must start with smtp:\/\/ or smtps:\/\//],
  ] as const) {
    const e = await readAlertSettings(await load(yaml('u'), { u: content })).catch((x) => x);
    assert.instance(e, AlertSettingsError);
    assert.match(e.message, msg);
    assert.not.match(e.message, 'hunter2');
  }
});

test.run();
