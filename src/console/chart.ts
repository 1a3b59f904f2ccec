import { html, type Html } from './html.js';
import { count } from '../text/plural.js';

/** One bar group: a label and the two series (blocked attempts, signals). */
export interface ChartPoint {
  label: string;
  title: string;
  blocked: number;
  signals: number;
}

/**
 * An inline SVG bar chart of blocked attempts (blue) and circumvention signals (red) per bucket,
 * with a <title> per bar for hover and screen readers. No script, no external asset; prints.
 */
export function barChart(points: ChartPoint[], caption: string, labelEvery = 1): Html {
  const bw = Math.max(28, Math.floor(660 / Math.max(1, points.length)));
  const h = 120;
  const max = Math.max(1, ...points.map((p) => Math.max(p.blocked, p.signals)));
  const width = points.length * bw + 30;
  const y = (v: number) => Math.round((v / max) * h);
  return html`<figure>
    <svg class="chart" viewBox="0 0 ${width} ${h + 40}" width="${width}" height="${h + 40}" role="img" aria-label="${caption}">
      <text x="0" y="10">${max}</text>
      <line x1="26" y1="${14}" x2="${width}" y2="${14}" stroke="#eaeef2" />
      ${points.map((p, i) => {
        const x = 30 + i * bw;
        return html`<g
          ><rect class="b" x="${x}" y="${14 + h - y(p.blocked)}" width="${bw / 2 - 2}" height="${y(p.blocked)}"
            ><title>${p.title}: ${p.blocked} blocked</title></rect
          ><rect class="s" x="${x + bw / 2 - 2}" y="${14 + h - y(p.signals)}" width="${bw / 2 - 2}" height="${y(p.signals)}"
            ><title>${p.title}: ${count(p.signals, 'signal')}</title></rect
          >${i % labelEvery === 0 ? html`<text x="${x + bw / 2 - 2}" y="${h + 30}" text-anchor="middle">${p.label}</text>` : ''}</g
        >`;
      })}
    </svg>
    <figcaption class="legend muted">
      ${caption}<span style="background:#0969da"></span>blocked attempts<span style="background:#cf222e"></span>circumvention
      signals
    </figcaption>
  </figure>`;
}
