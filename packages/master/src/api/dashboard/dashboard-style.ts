/** The dashboard's style sheet: light, dense, readable on a laptop screen. */
export const DASHBOARD_CSS = `
:root {
  --bg: #f4f6f9; --panel: #ffffff; --ink: #1d2433; --muted: #687386; --line: #e3e7ee;
  --accent: #2563eb; --accent-soft: rgba(37, 99, 235, 0.12);
  --ok: #15803d; --ok-soft: #dcfce7; --warn: #b45309; --warn-soft: #fef3c7;
  --bad: #b91c1c; --bad-soft: #fee2e2; --idle: #64748b; --idle-soft: #e2e8f0;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
a { color: var(--accent); }
.top { display: flex; align-items: center; gap: 20px; padding: 10px 24px; background: #111827; color: #e5e7eb; flex-wrap: wrap; }
.brand { font-weight: 700; font-size: 18px; letter-spacing: 0.3px; color: #fff; }
.logo { color: #60a5fa; }
.leader { color: #cbd5e1; font-size: 13px; }
.leader b { color: #fff; font-weight: 600; }
.live { display: flex; align-items: center; gap: 6px; font-size: 13px; color: #cbd5e1; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: #94a3b8; display: inline-block; }
.dot.ok { background: #22c55e; box-shadow: 0 0 0 3px rgba(34, 197, 94, 0.25); }
.dot.stale { background: #f59e0b; }
.dot.down { background: #ef4444; }
.token { margin-left: auto; display: flex; align-items: center; gap: 6px; }
.token label { font-size: 12px; color: #94a3b8; }
.token input { width: 200px; padding: 5px 8px; border-radius: 6px; border: 1px solid #374151; background: #1f2937; color: #f9fafb; }
button { font: inherit; font-size: 12.5px; padding: 4px 11px; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.08); }
button.ghost { background: transparent; color: inherit; border-color: #4b5563; }
button.small { padding: 2px 9px; font-size: 12px; }
button.warn { background: #fff; color: var(--warn); border-color: #f59e0b; }
button.go { background: #fff; color: var(--ok); border-color: #22c55e; }
button:disabled { opacity: 0.5; cursor: default; }
.banner { margin: 12px 24px 0; padding: 10px 14px; border-radius: 8px; background: var(--bad-soft); color: var(--bad); border: 1px solid #fecaca; }
main { padding: 16px 24px 8px; max-width: 1500px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.4px; }
.card .value { font-size: 24px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: 12px; margin-top: 2px; }
.card.amber { border-color: #f59e0b; background: var(--warn-soft); }
.card.red { border-color: #ef4444; background: var(--bad-soft); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px 14px; margin-bottom: 16px; }
.panel-head { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; margin-bottom: 8px; }
h2 { margin: 0; font-size: 15px; font-weight: 650; }
.hint, .legend { color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 6px; border-radius: 2px; }
.swatch.rec { background: var(--accent); }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 1100px) { .two { grid-template-columns: 1fr; } }
table.grid { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.grid th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.grid td { padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.grid tr:last-child td { border-bottom: none; }
.grid .num { text-align: right; white-space: nowrap; }
.grid td.empty { color: var(--muted); text-align: center; padding: 14px; }
tr.topic-row { cursor: pointer; }
tr.topic-row:hover td { background: #f8fafc; }
tr.detail td { background: #f8fafc; padding: 4px 8px 10px 28px; }
.caret { display: inline-block; width: 14px; color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.active { background: var(--ok-soft); color: var(--ok); }
.badge.paused, .badge.planned { background: var(--idle-soft); color: var(--idle); }
.badge.stopped, .badge.failed { background: var(--bad-soft); color: var(--bad); }
.badge.deleting, .badge.done { background: var(--accent-soft); color: var(--accent); }
.lag { display: inline-block; padding: 1px 7px; border-radius: 6px; }
.lag.amber { background: var(--warn-soft); color: var(--warn); font-weight: 600; }
.lag.red { background: var(--bad-soft); color: var(--bad); font-weight: 700; }
.err { color: var(--bad); max-width: 520px; word-break: break-word; }
.note { color: var(--warn); max-width: 520px; word-break: break-word; }
.muted { color: var(--muted); }
.chart { position: relative; height: 190px; }
.chart svg { width: 100%; height: 100%; display: block; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart .gridline { stroke: var(--line); stroke-width: 1; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .area { fill: var(--accent-soft); stroke: none; }
.chart .nodata { fill: var(--muted); font-size: 13px; }
.toast { position: fixed; bottom: 18px; right: 18px; max-width: 460px; padding: 10px 14px; border-radius: 8px;
  background: #111827; color: #f9fafb; box-shadow: 0 6px 24px rgba(0, 0, 0, 0.2); font-size: 13px; }
.toast.bad { background: var(--bad); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 4px 0 18px; }
`;
