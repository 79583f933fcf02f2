/**
 * The checks of deploy/check/run.sh on what Sluice ships for monitoring, which no schema and no
 * promtool run can see: that every PromQL expression of the alerting rules and of the Grafana
 * dashboard names only metrics the programs export (a renamed metric would leave an alert that
 * never fires and a panel that stays empty); that every alert has a promtool test where it fires
 * and one where it does not; that the dashboard is well-formed for Grafana; and that the
 * rendered manifests scrape the master with the token the master reads.
 *
 * The exported names come from the programs' own metric classes, instantiated here (nothing
 * is started, nothing is connected): the master's, its integrity passes' and the worker's
 * registries, with Node's default metrics.
 *
 *   node --conditions=source deploy/check/observability-check.ts <repo root> <tools dir> <rendered dir> [--write]
 *
 * The PrometheusRule of deploy/k8s/components/prometheus-rules and the Helm chart's
 * files/sluice-rules.yaml are made from the rules file, and the chart's files/sluice-dashboard.json
 * is a copy of the dashboard (neither a kustomization nor a chart can load a file outside its
 * folder): the check fails when one differs, and `--write` writes them anew. It also writes the dashboard's queries as recording rules into
 * <rendered dir>/../dashboard-queries.yaml, for run.sh's promtool to parse. Prints one line per
 * check (`ok` or `FAIL`), exits 1 when any failed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { integrityMetricsOf } from '../../packages/master/src/integrity/integrity-metrics.ts';
import { MasterMetrics } from '../../packages/master/src/status/metrics.ts';
import { WorkerMetrics } from '../../packages/worker/src/worker-metrics.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON of any shape, checked field by field
type Obj = Record<string, any>;

const RULES = 'deploy/prometheus/sluice-rules.yaml';
const RULE_TESTS = 'deploy/prometheus/tests';
const DASHBOARD = 'deploy/grafana/sluice-dashboard.json';
/** What every panel's datasource uid must be: the dashboard's data source variable. */
const DATASOURCE_VARIABLE = '$' + '{datasource}';
const RULE_OBJECT = 'deploy/k8s/components/prometheus-rules/prometheusrule.yaml';
const CHART_RULES = 'deploy/helm/sluice/files/sluice-rules.yaml';
const CHART_DASHBOARD = 'deploy/helm/sluice/files/sluice-dashboard.json';

const write = process.argv.includes('--write');
const [root, toolsDir, renderedDir] = process.argv
  .slice(2)
  .filter((a) => a !== '--write')
  .map((a) => resolve(a));
if (!root || !toolsDir || !renderedDir) {
  console.error(
    'usage: node --conditions=source observability-check.ts <repo root> <tools dir> <rendered dir>',
  );
  process.exit(2);
}
const require = createRequire(join(toolsDir, 'npm', 'package.json'));
const YAML = require('yaml') as {
  parse(s: string): unknown;
  parseAllDocuments(s: string): { toJS(): unknown }[];
  stringify(v: unknown, opts: { lineWidth: number }): string;
};

let failures = 0;
function check(name: string, problems: string[]): void {
  if (problems.length === 0) {
    console.log(`ok   ${name}`);
    return;
  }
  failures++;
  console.log(`FAIL ${name}`);
  for (const p of problems) console.log(`       ${p}`);
}

/** Every sample name a scrape of `registry` can show (a histogram's _bucket, _sum and _count). */
async function exported(registry: Registry): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    out.add(m.name);
    if (String(m.type) === 'histogram' || String(m.type) === 'summary')
      for (const s of ['_bucket', '_sum', '_count']) out.add(m.name + s);
  }
  return out;
}

const master = new MasterMetrics();
integrityMetricsOf(master.registry);
const worker = new WorkerMetrics();
const known = new Set([...(await exported(master.registry)), ...(await exported(worker.registry))]);

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without']);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers,
 * ranges, grouping clauses, Grafana variables and numbers are taken out, minus function and
 * aggregation names (an identifier followed by `(`) and the operators' keywords.
 */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{?\w+(?::\w+)?\}?/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b(?:group_left|group_right)\b/g, ' ')
    .replace(/(?<![\w:])\d[\w.]*/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

function unknownNames(where: string, expr: string): string[] {
  const names = metricNamesOf(expr);
  if (names.length === 0) return [`${where}: no metric name found in ${JSON.stringify(expr)}`];
  return names.filter((n) => !known.has(n)).map((n) => `${where}: ${n} is not a metric Sluice exports`);
}

// --- the alerting rules -----------------------------------------------------------------------
const rules = YAML.parse(readFileSync(join(root, RULES), 'utf8')) as Obj;
const alerts: Obj[] = (rules.groups ?? []).flatMap((g: Obj) => g.rules ?? []);
check(
  `${RULES}: every expression names only metrics the master or the worker exports`,
  alerts.flatMap((r) => unknownNames(`${r.alert ?? r.record}`, String(r.expr ?? ''))),
);

const firesIn = new Set<string>();
const quietIn = new Set<string>();
for (const f of readdirSync(join(root, RULE_TESTS)).filter((f) => /\.ya?ml$/.test(f))) {
  const doc = YAML.parse(readFileSync(join(root, RULE_TESTS, f), 'utf8')) as Obj;
  for (const t of doc.tests ?? [])
    for (const a of t.alert_rule_test ?? [])
      ((a.exp_alerts ?? []).length > 0 ? firesIn : quietIn).add(String(a.alertname));
}
check(
  `${RULE_TESTS}: every alert is tested where it fires and where it does not`,
  alerts.flatMap((r) => [
    ...(firesIn.has(r.alert) ? [] : [`${r.alert}: no test where it fires`]),
    ...(quietIn.has(r.alert) ? [] : [`${r.alert}: no test where it stays quiet (exp_alerts: [])`]),
  ]),
);
check(
  `${RULES}: every alert has a severity, a summary and a description`,
  alerts.flatMap((r) =>
    ['labels.severity', 'annotations.summary', 'annotations.description']
      .filter((path) => !path.split('.').reduce((o: Obj | undefined, k) => o?.[k], r))
      .map((path) => `${r.alert}: no ${path}`),
  ),
);

/** A file made from another (`from`): written with --write, else a failed check when it differs. */
function generated(path: string, from: string, text: string): void {
  if (write) writeFileSync(join(root as string, path), text);
  let now = '';
  try {
    now = readFileSync(join(root as string, path), 'utf8');
  } catch {}
  check(
    `${path}: made from ${from}`,
    now === text
      ? []
      : [
          `it differs from ${from}: run node deploy/check/observability-check.ts with --write (see its header)`,
        ],
  );
}
const madeFrom = (from: string) => [
  `# Made from ${from} by deploy/check/observability-check.ts --write (npm run deploy:check`,
  '# fails when the two differ): change the rules there, then write this file anew.',
];
generated(
  RULE_OBJECT,
  RULES,
  [
    ...madeFrom(RULES),
    YAML.stringify(
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'sluice', labels: { 'app.kubernetes.io/name': 'sluice' } },
        spec: { groups: rules.groups },
      },
      { lineWidth: 0 },
    ),
  ].join('\n'),
);
// The Helm chart's copy (a chart reads no file outside its folder): the PrometheusRule's spec,
// which templates/prometheusrule.yaml reads with .Files.Get.
generated(
  CHART_RULES,
  RULES,
  [...madeFrom(RULES), YAML.stringify({ groups: rules.groups }, { lineWidth: 0 })].join('\n'),
);

// --- the dashboard ----------------------------------------------------------------------------
// The chart's copy, for its optional ConfigMap that Grafana's dashboard sidecar loads (JSON
// has no comments: the copy is the file as it is).
generated(CHART_DASHBOARD, DASHBOARD, readFileSync(join(root, DASHBOARD), 'utf8'));
const dash = JSON.parse(readFileSync(join(root, DASHBOARD), 'utf8')) as Obj;
const panels: Obj[] = (dash.panels ?? []).flatMap((p: Obj) => [p, ...(p.panels ?? [])]);
const targets = panels.flatMap((p) => (p.targets ?? []).map((t: Obj) => ({ p, t })));
const variables: Obj[] = dash.templating?.list ?? [];
check(`${DASHBOARD}: every expression names only metrics the master or the worker exports`, [
  ...targets.flatMap(({ p, t }) => unknownNames(`panel "${p.title}" ${t.refId}`, String(t.expr ?? ''))),
  ...variables
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const q = String(typeof v.query === 'string' ? v.query : v.query?.query);
      const m = /^label_values\(\s*([^,]+),\s*\w+\s*\)$/.exec(q);
      return m?.[1]
        ? unknownNames(`variable $${v.name}`, m[1])
        : [`variable $${v.name}: ${q} is not label_values(metric, label)`];
    }),
]);
// For promtool (run.sh): each panel query as a recording rule, Grafana's variables replaced by
// values they take, so that `promtool check rules` parses every dashboard expression.
writeFileSync(
  join(renderedDir, '..', 'dashboard-queries.yaml'),
  YAML.stringify(
    {
      groups: [
        {
          name: 'sluice-dashboard',
          rules: targets.map(({ p, t }) => ({
            record: `sluice_dashboard:panel_${p.id}:${String(t.refId).toLowerCase()}`,
            expr: String(t.expr)
              .replaceAll('$__rate_interval', '5m')
              .replaceAll('$__range', '1h')
              .replaceAll('$topic', '.*'),
          })),
        },
      ],
    },
    { lineWidth: 0 },
  ),
);

{
  const problems: string[] = [];
  if (typeof dash.uid !== 'string' || !/^[\w-]{1,40}$/.test(dash.uid))
    problems.push('uid: 1 to 40 letters, digits, - or _');
  if (!Number.isInteger(dash.schemaVersion)) problems.push('schemaVersion: an integer');
  if (!variables.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'))
    problems.push('templating: a datasource variable of type prometheus, so that the import asks for one');
  const ids = panels.map((p) => p.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i)))
    problems.push(`panel id ${id} is used twice`);
  for (const p of panels) {
    const g = p.gridPos ?? {};
    if (!['h', 'w', 'x', 'y'].every((k) => Number.isInteger(g[k])) || g.x + g.w > 24)
      problems.push(`panel "${p.title}": gridPos needs integer h, w, x, y within 24 columns`);
    if (p.type === 'row') continue;
    if (p.datasource?.uid !== DATASOURCE_VARIABLE)
      problems.push(`panel "${p.title}": datasource is not ${DATASOURCE_VARIABLE}`);
    if ((p.targets ?? []).length === 0) problems.push(`panel "${p.title}": no query`);
    for (const t of p.targets ?? [])
      if (!t.refId || !t.expr) problems.push(`panel "${p.title}": a target without refId or expr`);
  }
  check(
    `${DASHBOARD}: a Grafana dashboard (uid, schemaVersion, datasource variable, panel ids and grid)`,
    problems,
  );
}

// --- scraping with protected reads ------------------------------------------------------------
{
  const problems: string[] = [];
  for (const f of readdirSync(renderedDir).filter((f) => f.endsWith('.yaml'))) {
    const objs = YAML.parseAllDocuments(readFileSync(join(renderedDir, f), 'utf8'))
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);
    const masterPods = objs.filter(
      (o) => o.kind === 'Deployment' && o.metadata?.labels?.['app.kubernetes.io/component'] === 'master',
    );
    for (const sm of objs.filter((o) => o.kind === 'ServiceMonitor')) {
      for (const ep of sm.spec?.endpoints ?? []) {
        const key = ep.authorization?.credentials?.key;
        if (!key) continue;
        for (const d of masterPods) {
          const c = (d.spec?.template?.spec?.containers ?? [])[0] ?? {};
          const env: Obj[] = c.env ?? [];
          const file = env.find((e) => e.name === 'SLUICE_METRICS_TOKEN_FILE')?.value;
          const direct = env.find((e) => e.name === 'SLUICE_METRICS_TOKEN')?.valueFrom?.secretKeyRef?.key;
          const mounted = (c.volumeMounts ?? []).some(
            (m: Obj) => typeof file === 'string' && file === `${m.mountPath}/${key}`,
          );
          if (!mounted && direct !== key)
            problems.push(
              `${f}: ServiceMonitor ${sm.metadata?.name} sends the Secret key ${key}, but master ${d.metadata?.name} does not read it (SLUICE_METRICS_TOKEN_FILE=<mount of the Secret>/${key}): every scrape would be refused`,
            );
        }
      }
    }
  }
  check('rendered manifests: the master reads the metrics token its ServiceMonitor sends', problems);
}

process.exit(failures > 0 ? 1 : 0);
