/**
 * A grouped bar chart as SVG text, with no library: one panel per facet (record size), one
 * group of bars per x category (workers × concurrency), one bar per series (format /
 * compression), and dashed reference lines (the baselines). Values are drawn to scale on a
 * shared y axis and written on each bar.
 */

export interface ChartPanel {
  title: string;
  categories: string[];
  /** series name → value per category (null: not measured). */
  series: Array<{ name: string; values: Array<number | null> }>;
  references: Array<{ name: string; value: number }>;
}

export interface Chart {
  title: string;
  subtitle: string;
  yLabel: string;
  panels: ChartPanel[];
}

const COLORS = ['#2b6cb0', '#38a169', '#d69e2e', '#c53030', '#6b46c1', '#319795', '#dd6b20'];
const REF_COLORS = ['#1a202c', '#718096', '#a0aec0'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum and step for values up to `max`. */
function axis(max: number): { top: number; step: number } {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

export function barChart(c: Chart): string {
  const panelW = 460;
  const panelH = 300;
  const left = 60;
  const top = 70;
  const gap = 40;
  const legendH = 20 * Math.ceil((c.panels[0]?.series.length ?? 0) / 4) + 40;
  const width = left + c.panels.length * (panelW + gap);
  const height = top + panelH + 60 + legendH;
  const all = c.panels.flatMap((p) => [
    ...p.series.flatMap((s) => s.values.filter((v): v is number => v !== null)),
    ...p.references.map((r) => r.value),
  ]);
  const { top: yMax, step } = axis(Math.max(1, ...all));
  const y = (v: number) => top + panelH - (v / yMax) * panelH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${esc(`${c.title}. ${c.subtitle}`)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="${left}" y="44" fill="#4a5568">${esc(c.subtitle)}</text>`,
  );
  c.panels.forEach((p, pi) => {
    const x0 = left + pi * (panelW + gap);
    out.push(
      `<text x="${x0 + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    );
    for (let v = 0; v <= yMax + 1e-9; v += step) {
      out.push(
        `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e8f0"/>`,
        `<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" fill="#4a5568">${Number(v.toFixed(1))}</text>`,
      );
    }
    if (pi === 0) {
      out.push(
        `<text transform="translate(${16},${top + panelH / 2}) rotate(-90)" text-anchor="middle" fill="#4a5568">${esc(c.yLabel)}</text>`,
      );
    }
    const groupW = panelW / p.categories.length;
    const barW = Math.min(28, (groupW - 16) / Math.max(1, p.series.length));
    p.categories.forEach((cat, ci) => {
      const gx = x0 + ci * groupW + (groupW - barW * p.series.length) / 2;
      p.series.forEach((s, si) => {
        const v = s.values[ci];
        if (v === null || v === undefined) return;
        const bx = gx + si * barW;
        out.push(
          `<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + panelH - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name}, ${cat}: ${v.toFixed(1)}`)}</title></rect>`,
          `<text x="${(bx + (barW - 2) / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#2d3748">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`,
        );
      });
      out.push(
        `<text x="${x0 + ci * groupW + groupW / 2}" y="${top + panelH + 18}" text-anchor="middle">${esc(cat)}</text>`,
      );
    });
    p.references.forEach((r, ri) => {
      out.push(
        `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(r.value)}" y2="${y(r.value)}" stroke="${REF_COLORS[ri % REF_COLORS.length]}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
        // Labels above and below their lines in turn, so that close baselines stay readable.
        `<text x="${x0 + panelW - 4}" y="${ri % 2 === 0 ? y(r.value) - 4 : y(r.value) + 12}" text-anchor="end" font-size="10" fill="${REF_COLORS[ri % REF_COLORS.length]}">${esc(`${r.name} ${r.value.toFixed(0)}`)}</text>`,
      );
    });
    out.push(
      `<line x1="${x0}" x2="${x0 + panelW}" y1="${top + panelH}" y2="${top + panelH}" stroke="#2d3748"/>`,
    );
  });
  out.push(
    `<text x="${left}" y="${top + panelH + 40}" fill="#4a5568">workers × concurrency (ranges moved at once)</text>`,
  );
  const series = c.panels[0]?.series ?? [];
  series.forEach((s, si) => {
    const lx = left + (si % 4) * 200;
    const ly = top + panelH + 60 + Math.floor(si / 4) * 20;
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`,
      `<text x="${lx + 18}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
