import { messageText, type AlertMessage } from './alert-message.js';

/**
 * An alert as a webhook's JSON body, in the shape the receiver expects:
 * - `teams`: a message with one Adaptive Card (what Teams' Workflows "post to a channel when a
 *   webhook request is received" and the older incoming-webhook connectors both accept);
 * - `slack`: an incoming webhook's `text` (the notification and fallback) with `blocks`;
 * - `json`: webfilter's own, for a ticketing system or script: type, subject, text, link, data.
 */
export type WebhookFormat = 'teams' | 'slack' | 'json';

export function webhookPayload(m: AlertMessage, format: WebhookFormat): unknown {
  if (format === 'teams') return teams(m);
  if (format === 'slack') return slack(m);
  return {
    type: m.type,
    subject: m.subject,
    summary: m.summary,
    text: messageText(m),
    link: m.link?.url ?? null,
    created_at: new Date(m.createdAt).toISOString(),
    ...(m.data ? { data: m.data } : {}),
  };
}

function teams(m: AlertMessage): unknown {
  const body: unknown[] = [
    { type: 'TextBlock', text: m.subject, weight: 'Bolder', size: 'Medium', wrap: true },
    { type: 'TextBlock', text: m.summary, wrap: true },
  ];
  for (const s of m.sections) {
    body.push({ type: 'TextBlock', text: s.heading, weight: 'Bolder', wrap: true, spacing: 'Medium' });
    if (s.facts?.length) body.push({ type: 'FactSet', facts: s.facts.map(([title, value]) => ({ title, value })) });
    for (const l of s.lines ?? []) body.push({ type: 'TextBlock', text: `- ${l}`, wrap: true, spacing: 'None' });
  }
  if (m.footer) body.push({ type: 'TextBlock', text: m.footer, wrap: true, isSubtle: true, size: 'Small' });
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(m.link ? { actions: [{ type: 'Action.OpenUrl', title: m.link.label, url: m.link.url }] } : {}),
  };
  return {
    type: 'message',
    summary: m.subject,
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

/** Slack mrkdwn treats &, < and > as markup: escaped as Slack documents. */
const mrk = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function slack(m: AlertMessage): unknown {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: m.subject.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: mrk(m.summary) } },
  ];
  for (const s of m.sections) {
    const rows = [...(s.facts ?? []).map(([k, v]) => `*${mrk(k)}:* ${mrk(v)}`), ...(s.lines ?? []).map((l) => `• ${mrk(l)}`)];
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${mrk(s.heading)}*\n${rows.join('\n')}`.slice(0, 3000) } });
  }
  if (m.link) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${m.link.url}|${mrk(m.link.label)}>` } });
  if (m.footer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: mrk(m.footer) }] });
  // Slack takes at most 50 blocks: a long digest keeps its first sections; the text has the rest.
  return { text: `${m.subject}\n${m.summary}`, blocks: blocks.slice(0, 50) };
}
