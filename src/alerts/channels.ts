import { createTransport } from 'nodemailer';
import { emailParts } from './render-email.js';
import { webhookPayload, type WebhookFormat } from './webhook-payloads.js';
import type { AlertMessage } from './alert-message.js';
import type { ChannelName } from './channel-names.js';

/** A way of telling people: e-mail or a webhook. `send` resolves when the far end took the message. */
export interface AlertChannel {
  readonly name: ChannelName;
  /** Where it sends, for status and logs: never with credentials. */
  readonly target: string;
  send(m: AlertMessage): Promise<void>;
  close(): void;
}

export { CHANNEL_NAMES, type ChannelName } from './channel-names.js';

/** How long one delivery attempt may take, connection to answer. */
const SEND_TIMEOUT_MS = 20_000;

/** The URL for people: user and password replaced, path of a webhook (its secret) cut off. */
export function redactUrl(url: string, keepPath: boolean): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return keepPath ? `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}` : `${u.protocol}//${u.host}/…`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Removes every occurrence of the secrets from a message (an error may quote a URL). */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

export interface EmailSettings {
  /** The SMTP URL to use, with credentials when it came from url_file. */
  url: string;
  requireTls: boolean;
  from: string;
  to: string[];
}

/** E-mail through the school's mail server, with nodemailer (SMTP, STARTTLS, AUTH). */
export class EmailChannel implements AlertChannel {
  readonly name = 'email' as const;
  readonly target: string;
  private readonly transport;
  private readonly secrets: string[];

  constructor(private readonly s: EmailSettings) {
    const u = new URL(s.url);
    this.secrets = [u.password, decodeURIComponent(u.password), s.url].filter(Boolean);
    this.target = `${redactUrl(s.url, false).replace(/\/…$/, '')} → ${s.to.join(', ')}`;
    this.transport = createTransport({
      url: s.url,
      requireTLS: s.requireTls && u.protocol === 'smtp:',
      connectionTimeout: SEND_TIMEOUT_MS,
      greetingTimeout: SEND_TIMEOUT_MS,
      socketTimeout: SEND_TIMEOUT_MS,
      // No connection pool: a few messages an hour, and a pooled connection goes stale between them.
      pool: false,
      logger: false,
    } as Parameters<typeof createTransport>[0]);
  }

  async send(m: AlertMessage): Promise<void> {
    const { subject, text, html } = emailParts(m);
    try {
      await this.transport.sendMail({ from: this.s.from, to: m.to ?? this.s.to, subject, text, html });
    } catch (e) {
      throw new Error(scrub((e as Error).message, this.secrets));
    }
  }

  close(): void {
    this.transport.close();
  }
}

export interface WebhookSettings {
  url: string;
  format: WebhookFormat;
  /** True when the URL came from url_file (then even its path is kept out of logs). */
  secretUrl: boolean;
}

/** A POST of the message as JSON, with the runtime's own fetch; any 2xx is delivered. */
export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook' as const;
  readonly target: string;

  constructor(private readonly s: WebhookSettings) {
    this.target = `${redactUrl(s.url, !s.secretUrl)} (${s.format})`;
  }

  async send(m: AlertMessage): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'webfilter-alerts' },
        body: JSON.stringify(webhookPayload(m, this.s.format)),
        redirect: 'error',
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      throw new Error(scrub(`${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}`, [this.s.url]));
    }
    const body = await res.text().catch(() => '');
    if (res.status < 200 || res.status > 299)
      throw new Error(`HTTP ${res.status}${body ? `: ${scrub(body.slice(0, 200), [this.s.url])}` : ''}`);
  }

  close(): void {}
}
