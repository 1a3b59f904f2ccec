import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { EmailSettings, WebhookSettings } from './channels.js';
import type { GrouperSettings } from './signal-grouper.js';

/**
 * Everything the alerting thread needs, as plain data (it crosses to the thread by postMessage):
 * the config's `alerts:` section with the credentials read from their url_files, the timezone and
 * the console's public address.
 */
export interface AlertSettings {
  email: EmailSettings | null;
  webhook: WebhookSettings | null;
  immediate: string[];
  grouper: GrouperSettings;
  digest: { at: string; days: string[]; to: string[] | null } | null;
  timezone: string;
  /** console.public_url without its trailing slash, or null. */
  publicUrl: string | null;
  /** This appliance's host name, named in test messages. */
  host: string;
}

/** A url_file's content is wrong; the message names the file and the key, never the URL. */
export class AlertSettingsError extends Error {}

async function readUrlFile(dir: string, file: string, key: string, protocols: string[]): Promise<string> {
  const abs = path.resolve(dir, file);
  let text: string;
  try {
    text = (await readFile(abs, 'utf8')).trim();
  } catch (e) {
    throw new AlertSettingsError(`${key}: cannot read "${abs}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new AlertSettingsError(`${key}: "${abs}" does not hold a URL (one line, e.g. ${protocols[0]}//user:password@host)`);
  }
  if (!protocols.includes(u.protocol))
    throw new AlertSettingsError(`${key}: the URL in "${abs}" must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return text;
}

/** The alerting settings of a loaded config, with secrets read; null when `alerts:` is absent. */
export async function readAlertSettings(loaded: LoadedConfig): Promise<AlertSettings | null> {
  const a = loaded.config.alerts;
  if (!a) return null;
  const dir = path.dirname(loaded.file);
  let email: EmailSettings | null = null;
  if (a.email) {
    let url = a.email.smtp!;
    if (a.email.url_file) {
      url = await readUrlFile(dir, a.email.url_file, 'alerts.email.url_file', ['smtp:', 'smtps:']);
      if (a.email.smtp && new URL(a.email.smtp).host !== new URL(url).host)
        throw new AlertSettingsError(
          `alerts.email.url_file: its server (${new URL(url).host}) is not alerts.email.smtp's (${new URL(a.email.smtp).host})`,
        );
    }
    email = { url, requireTls: a.email.require_tls, from: a.email.from, to: a.email.to };
  }
  let webhook: WebhookSettings | null = null;
  if (a.webhook) {
    const secretUrl = a.webhook.url_file !== undefined;
    const url = secretUrl
      ? await readUrlFile(dir, a.webhook.url_file!, 'alerts.webhook.url_file', ['https:', 'http:'])
      : a.webhook.url!;
    webhook = { url, format: a.webhook.format, secretUrl };
  }
  return {
    email,
    webhook,
    immediate: a.immediate,
    grouper: { groupMs: a.group_seconds * 1000, repeatMs: a.repeat_minutes * 60_000, maxPerHour: a.max_per_hour },
    digest: a.digest ? { at: a.digest.at, days: a.digest.days, to: a.digest.to ?? null } : null,
    timezone: loaded.config.timezone,
    publicUrl: loaded.config.console.public_url?.replace(/\/+$/, '') ?? null,
    host: os.hostname(),
  };
}
