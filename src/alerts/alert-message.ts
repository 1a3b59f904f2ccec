/**
 * What a channel sends: one structure, rendered per channel (an e-mail's text and HTML parts, a
 * Teams card, Slack blocks, webfilter's JSON), so every channel says the same thing.
 */

/** Why a message was sent (the JSON format's `type`, and the metrics don't care). */
export type MessageType = 'signals' | 'overflow' | 'digest' | 'test' | 'notice';

export interface MessageSection {
  heading: string;
  /** Label → value rows (shown as a two-column table). */
  facts?: [string, string][];
  /** Paragraphs or list items. */
  lines?: string[];
}

export interface AlertMessage {
  type: MessageType;
  /** The e-mail subject, and the card's title. */
  subject: string;
  /** One or two sentences saying what happened. */
  summary: string;
  sections: MessageSection[];
  /** The console page it is about, when console.public_url is set. */
  link: { url: string; label: string } | null;
  /** A last line in small print (what to do next, where it came from). */
  footer: string;
  /** E-mail recipients instead of alerts.email.to (the digest's, a notifier's). */
  to?: string[];
  /** When it was made (ms since the Unix epoch): delivery gives up on very old messages. */
  createdAt: number;
  /** Structured data for the JSON format (devices, counts): never more than the text says. */
  data?: Record<string, unknown>;
}

/** The plain-text rendering (e-mail text part, Slack fallback, JSON `text`). */
export function messageText(m: AlertMessage): string {
  const out: string[] = [m.summary, ''];
  for (const s of m.sections) {
    out.push(s.heading);
    const width = Math.max(0, ...(s.facts ?? []).map(([k]) => k.length));
    for (const [k, v] of s.facts ?? []) out.push(`  ${`${k}:`.padEnd(width + 1)} ${v}`);
    for (const l of s.lines ?? []) out.push(`  ${l}`);
    out.push('');
  }
  if (m.link) out.push(`${m.link.label}: ${m.link.url}`, '');
  if (m.footer) out.push(m.footer);
  return out.join('\n').trimEnd() + '\n';
}
