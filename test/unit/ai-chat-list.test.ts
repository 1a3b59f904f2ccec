/**
 * The shipped `ai-chat` category through the real loader and policy: it blocks the chat products and
 * not the companies' other sites; the production config defines it but no group blocks it; and the
 * config's commented example (AI chat for staff and the sixth form, the sixth form in lessons only)
 * is valid and does what its comment says.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { blockedBy, loadShipped, ROOT } from '../helpers/shipped-policy.js';

const shipped = await loadShipped();
const names = (s: TemplateStringsArray): string[] => s[0].split(/\s+/).filter(Boolean);

/** The chat products' hostnames (catalogues, and the hosts the products' web apps call). */
const CHAT = names`
chatgpt.com chat.openai.com chat.com oaistatic.com oaiusercontent.com
claude.ai claude.com claudeusercontent.com clau.de
gemini.google.com gemini.google bard.google.com
copilot.microsoft.com copilot.com copilot.cloud.microsoft
grok.com grok.x.com
chat.deepseek.com
perplexity.ai www.perplexity.ai perplexity.com pplx.ai
character.ai plus.character.ai neo.character.ai characterai.io
meta.ai www.meta.ai
`;

/** The same companies' other sites and APIs, which school tools and lessons use. */
const NOT_CHAT = names`
openai.com www.openai.com platform.openai.com api.openai.com
anthropic.com www.anthropic.com docs.anthropic.com console.anthropic.com
google.com www.google.com mail.google.com docs.google.com classroom.google.com gemini.com
microsoft.com www.microsoft.com bing.com www.bing.com login.microsoftonline.com teams.microsoft.com
www.office.com m365.cloud.microsoft
x.ai console.x.ai x.com
deepseek.com platform.deepseek.com
meta.com www.facebook.com github.com www.bbc.co.uk
`;

test('ai-chat blocks the chat products', () => {
  for (const name of CHAT) assert.is(blockedBy(shipped.decideIn('ai-chat', name)), 'ai-chat', name);
});

test('ai-chat does not block the companies, their APIs or the rest of Google and Microsoft', () => {
  for (const name of NOT_CHAT) assert.is(blockedBy(shipped.decideIn('ai-chat', name)), null, name);
});

test('the production config defines ai-chat and no group blocks it', () => {
  assert.ok(shipped.policy.categories.includes('ai-chat'));
  for (const [name, group] of shipped.policy.groups) {
    for (const t of [Date.UTC(2027, 0, 11, 9, 30), Date.UTC(2027, 0, 11, 10, 50), Date.UTC(2027, 0, 16, 12)]) {
      assert.is(blockedBy(shipped.policy.decide(shipped.timetable.effective(group, t), 'chatgpt.com')), null, name);
    }
  }
});

/** The config's commented example, uncommented: the lines after its `#   schedules:` that start `#   `. */
function commentedExample(yamlText: string): string {
  const lines = yamlText.split('\n');
  const start = lines.indexOf('#   schedules:');
  assert.ok(start > 0, 'config/webfilter.yaml has the commented ai-chat example');
  const block: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('#   ')) break;
    block.push(line.slice(4));
  }
  return block.join('\n');
}

test("the config's commented example allows AI chat to staff, and to the sixth form in lessons only", async () => {
  const file = path.join(ROOT, 'config/webfilter.yaml');
  const config = parse(readFileSync(file, 'utf8'));
  const example = parse(commentedExample(readFileSync(file, 'utf8')));
  config.schedules = { ...config.schedules, ...example.schedules };
  config.groups = { ...config.groups, ...example.groups };
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-test-'));
  symlinkSync(path.join(ROOT, 'blocklists'), path.join(dir, 'blocklists')); // the config's relative list paths
  writeFileSync(path.join(dir, 'webfilter.yaml'), stringify(config));
  const p = await loadShipped(path.join(dir, 'webfilter.yaml')).finally(() => rmSync(dir, { recursive: true }));
  const at = (group: string, utc: number, name: string) =>
    blockedBy(p.policy.decide(p.timetable.effective(p.policy.groups.get(group)!, utc), name));
  const lesson = Date.UTC(2027, 0, 11, 9, 30); // Monday 09:30 in London (GMT in January)
  const brk = Date.UTC(2027, 0, 11, 10, 50); // morning break
  const evening = Date.UTC(2027, 0, 11, 19, 0);
  for (const t of [lesson, brk, evening]) {
    assert.is(at('students', t, 'chatgpt.com'), 'ai-chat');
    assert.is(at('school-devices', t, 'claude.ai'), 'ai-chat');
    assert.is(at('default', t, 'gemini.google.com'), 'ai-chat');
    assert.is(at('staff', t, 'chatgpt.com'), null);
  }
  assert.is(at('sixth-form', lesson, 'chatgpt.com'), null, 'sixth form, in a lesson');
  assert.is(at('sixth-form', brk, 'chatgpt.com'), 'ai-chat', 'sixth form, at break');
  assert.is(at('sixth-form', evening, 'chatgpt.com'), 'ai-chat', 'sixth form, after school');
  assert.is(at('sixth-form', lesson, 'www.facebook.com'), 'facebook', 'the example opens only ai-chat');
});

test.run();
