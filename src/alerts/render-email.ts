import { messageText, type AlertMessage } from './alert-message.js';

/**
 * An alert as an e-mail: a plain-text part and an HTML part saying the same. The HTML is a plain
 * table layout with inline styles (mail clients drop style sheets and scripts) and no images or
 * remote content; everything from the evidence is escaped (a device can name itself `<script>`).
 */

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const TD = 'padding:2px 12px 2px 0;vertical-align:top';

export function emailParts(m: AlertMessage): { subject: string; text: string; html: string } {
  const sections = m.sections
    .map((s) => {
      const facts = (s.facts ?? [])
        .map(
          ([k, v]) => `<tr><td style="${TD};color:#555;white-space:nowrap">${esc(k)}</td><td style="${TD}">${esc(v)}</td></tr>`,
        )
        .join('');
      const lines = (s.lines ?? []).map((l) => `<li>${esc(l)}</li>`).join('');
      return (
        `<h3 style="margin:16px 0 4px;font-size:15px">${esc(s.heading)}</h3>` +
        (facts ? `<table style="border-collapse:collapse;font-size:14px">${facts}</table>` : '') +
        (lines ? `<ul style="margin:4px 0;padding-left:20px;font-size:14px">${lines}</ul>` : '')
      );
    })
    .join('');
  const link = m.link
    ? `<p style="margin:16px 0"><a href="${esc(m.link.url)}" style="background:#1d4ed8;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">${esc(m.link.label)}</a></p><p style="font-size:12px;color:#555">${esc(m.link.url)}</p>`
    : '';
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(m.subject)}</title></head>` +
    `<body style="font-family:Arial,Helvetica,sans-serif;color:#111;max-width:640px;margin:0 auto;padding:16px">` +
    `<h2 style="font-size:18px;margin:0 0 8px">${esc(m.subject)}</h2>` +
    `<p style="font-size:14px">${esc(m.summary)}</p>${sections}${link}` +
    (m.footer ? `<p style="font-size:12px;color:#555;border-top:1px solid #ddd;padding-top:8px">${esc(m.footer)}</p>` : '') +
    `</body></html>`;
  return { subject: m.subject, text: messageText(m), html };
}
