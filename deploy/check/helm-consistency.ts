/**
 * The Helm chart (deploy/helm/sluice) and the kustomize manifests (deploy/k8s) describe one
 * installation twice, and both hand the programs their settings: this file finds where they
 * drift apart. check.ts calls it with the renders of deploy/check/run.sh; helm-consistency.test.ts
 * plants disagreements and shows that each one fails.
 *
 *   1. the chart's settings (values.yaml `config`): every name is a setting of the table in
 *      packages/shared/src/config.ts, none is a secret, and every value is the programs' own
 *      default, a site's address (a required or computed setting), or a deliberate override
 *      listed in the chart's README.md (the kustomize base must make it too: 3);
 *   2. the chart's README.md values table is the one values.yaml makes (every value, its
 *      default and its comment);
 *   3. the chart rendered with its default values has the objects of deploy/k8s/base, and with
 *      ci/all-on-values.yaml those of deploy/k8s/overlays/example, field by field (ports, probe
 *      paths, settings, resources, selectors, ...), apart from Helm's own labels and the
 *      differences listed below with their reasons;
 *   4. in each of those renders, the environment the masters' and workers' pods get (ConfigMap,
 *      env, the Secret's keys as files) loads in the program's own config loader without a
 *      problem or an unknown-setting warning.
 *
 *   node deploy/check/helm-consistency.ts --values-table    prints the README's values table
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  loadMasterConfig,
  loadWorkerConfig,
  REQUIRED,
  SETTING_TABLE,
  type Setting,
  unknownSettingWarnings,
} from '../../packages/shared/src/config.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape, checked field by field
type Obj = Record<string, any>;

/** The part of the `yaml` package this file uses (deploy/check/tools installs it). */
export interface YamlModule {
  parse(text: string): unknown;
  parseAllDocuments(text: string, options?: { version?: '1.1' | '1.2' }): { toJS(): unknown }[];
}

/** Two renders that must hold the same objects, but for the differences named with a reason. */
export interface RenderPair {
  name: string;
  chart: Obj[];
  kustomize: Obj[];
  /** "Kind/name" of objects only the chart renders, with why. */
  onlyInChart: Record<string, string>;
  /** "Kind/name" of objects only kustomize renders, with why. */
  onlyInKustomize: Record<string, string>;
}

export interface ChartInputs {
  settings: readonly Setting<unknown>[];
  valuesText: string;
  values: Obj;
  chartReadme: string;
  pairs: RenderPair[];
  /** Renders of the chart alone (no kustomize twin), whose pods the programs must start from. */
  renders: { name: string; objects: Obj[] }[];
}

export interface Finding {
  name: string;
  problems: string[];
}

export const CHART_DIR = 'deploy/helm/sluice';
const VALUES_HEADER = ['| value | default | meaning |', '|---|---|---|'];
const OVERRIDES_HEADER = "| setting | chart and kustomize base | programs' default | why |";

/** Labels Helm's templates add and kustomize's do not; selectors included. */
const HELM_ONLY_KEYS = new Set([
  'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/version',
  'helm.sh/chart',
  'checksum/config',
]);

// --- 1. settings ----------------------------------------------------------------------------

/** A setting's default as the text an environment variable would hold; null when it has none. */
function defaultText(s: Setting<unknown>): string | null {
  if (s.default === REQUIRED || typeof s.default === 'function') return null;
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}

/** Rows of a markdown table found by its header line: the cells, backticks removed. */
function tableRows(text: string, header: string): string[][] | null {
  const lines = text.split('\n');
  const at = lines.indexOf(header);
  if (at < 0) return null;
  const rows: string[][] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++)
    rows.push(
      lines[i]!.split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/^`|`$/g, '')),
    );
  return rows;
}

export function settingProblems(i: ChartInputs): string[] {
  const byName = new Map(i.settings.map((s) => [s.name as string, s]));
  const fileSettings = new Map<string, (typeof i.settings)[number]>(
    i.settings.filter((s) => s.secret).map((s) => [`${s.name}_FILE`, s] as const),
  );
  const overrides = new Map(
    (tableRows(i.chartReadme, OVERRIDES_HEADER) ?? []).map((r) => [r[0]!, r] as const),
  );
  const problems: string[] = [];
  if (!tableRows(i.chartReadme, OVERRIDES_HEADER))
    problems.push(`${CHART_DIR}/README.md has no overrides table ("${OVERRIDES_HEADER}")`);
  const config: Obj = i.values.config ?? {};
  for (const [name, raw] of Object.entries(config)) {
    const value = String(raw);
    const s = byName.get(name);
    if (!s) {
      if (!fileSettings.has(name))
        problems.push(
          `config.${name} is not a setting (not in the settings table of packages/shared/src/config.ts)`,
        );
      continue;
    }
    if (s.secret) {
      problems.push(
        `config.${name} is a secret: it belongs in the existing Secret (secrets.existingSecret), never in values`,
      );
      continue;
    }
    const programs = defaultText(s);
    if (programs === null || value === programs) {
      if (overrides.has(name))
        problems.push(
          `${CHART_DIR}/README.md lists ${name} as an override, but the chart keeps the programs' default`,
        );
      continue;
    }
    const row = overrides.get(name);
    if (!row)
      problems.push(
        `config.${name} is "${value}" but the programs' default is "${programs}": keep the default, or list it in ${CHART_DIR}/README.md's overrides table with why (and set it in deploy/k8s/base/sluice-config.env too)`,
      );
    else if (row[1] !== value || row[2] !== programs)
      problems.push(
        `${CHART_DIR}/README.md's override row of ${name} says chart "${row[1]}", programs "${row[2]}"; they are "${value}" and "${programs}"`,
      );
  }
  for (const name of overrides.keys())
    if (!(name in config))
      problems.push(`${CHART_DIR}/README.md lists ${name} as an override, but values.yaml does not set it`);
  return problems;
}

// --- 2. the values table --------------------------------------------------------------------

/**
 * The values of values.yaml that a user sets (scalars, lists, empty maps) by their dotted path,
 * with their default and the comment lines right above them. values.yaml is read line by line
 * for the comments, which a YAML parser drops; the defaults come from the parsed values.
 */
export function valueRows(text: string, values: Obj): { path: string; value: unknown; meaning: string }[] {
  const rows: { path: string; value: unknown; meaning: string }[] = [];
  const stack: { indent: number; key: string }[] = [];
  let comment: string[] = [];
  for (const line of text.split('\n')) {
    const c = /^\s*#\s?(.*)$/.exec(line);
    if (c) {
      comment.push(c[1]!.trim());
      continue;
    }
    const k = /^(\s*)([A-Za-z0-9_./-]+):/.exec(line);
    if (!k) {
      comment = [];
      continue;
    }
    const indent = k[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const keys = [...stack.map((s) => s.key), k[2]!];
    const value = keys.reduce<unknown>((o, key) => (o as Obj | undefined)?.[key], values);
    const isSection =
      !!value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0;
    if (isSection) stack.push({ indent, key: k[2]! });
    else rows.push({ path: keys.join('.'), value, meaning: comment.join(' ') });
    comment = [];
  }
  return rows;
}

export function valuesTable(text: string, values: Obj): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    ...VALUES_HEADER,
    ...valueRows(text, values).map(
      (r) => `| \`${r.path}\` | \`${cell(JSON.stringify(r.value))}\` | ${cell(r.meaning)} |`,
    ),
  ].join('\n');
}

export function valuesTableProblems(i: ChartInputs): string[] {
  const problems = valueRows(i.valuesText, i.values)
    .filter((r) => !r.meaning)
    .map((r) => `${CHART_DIR}/values.yaml: ${r.path} has no comment saying what it does`);
  const want = valuesTable(i.valuesText, i.values).split('\n');
  const lines = i.chartReadme.split('\n');
  const at = lines.indexOf(VALUES_HEADER[0]!);
  if (at < 0) return [...problems, `${CHART_DIR}/README.md has no values table ("${VALUES_HEADER[0]}")`];
  let end = at;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  const have = lines.slice(at, end);
  const fix = `(print it with: node deploy/check/helm-consistency.ts --values-table)`;
  for (const line of want.slice(2))
    if (!have.includes(line))
      problems.push(`${CHART_DIR}/README.md's values table lacks or differs from: ${line} ${fix}`);
  for (const line of have.slice(2))
    if (!want.includes(line))
      problems.push(
        `${CHART_DIR}/README.md's values table has a row values.yaml does not make: ${line} ${fix}`,
      );
  return problems;
}

// --- 3. renders -----------------------------------------------------------------------------

const isMap = (x: unknown): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x);

/**
 * An object as both tools should agree on it: without Helm's own labels and checksum, without
 * a namespace (Helm's comes from --namespace, kustomize's from the overlay), and with the
 * ConfigMap's name free of kustomize's content hash (`renamed`).
 */
function normalized(x: unknown, renamed: Map<string, string>): unknown {
  if (typeof x === 'string') return renamed.get(x) ?? x;
  if (Array.isArray(x)) return x.map((v) => normalized(v, renamed));
  if (!isMap(x)) return x;
  const out: Obj = {};
  for (const [k, v] of Object.entries(x)) {
    if (HELM_ONLY_KEYS.has(k)) continue;
    const n = normalized(v, renamed);
    if (k === 'annotations' && isMap(n) && Object.keys(n).length === 0) continue;
    out[k] = n;
  }
  if (isMap(out.metadata)) delete out.metadata.namespace;
  return out;
}

const objectKey = (o: Obj) => `${o.kind}/${o.metadata?.name}`;

/** Differences of two values as "path: chart X, kustomize Y"; list items with a name are matched by it. */
function differences(a: unknown, b: unknown, path: string, out: string[]): void {
  const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
  const named = (l: unknown[]) => l.every((v) => isMap(v) && typeof v.name === 'string');
  if (isMap(a) && isMap(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      differences(a[k], b[k], path ? `${path}.${k}` : k, out);
  } else if (Array.isArray(a) && Array.isArray(b) && named(a) && named(b)) {
    const names = [...new Set([...a, ...b].map((v) => (v as Obj).name as string))];
    for (const n of names)
      differences(
        a.find((v) => v.name === n),
        b.find((v) => v.name === n),
        `${path}[${n}]`,
        out,
      );
  } else if (Array.isArray(a) && Array.isArray(b)) {
    for (let k = 0; k < Math.max(a.length, b.length); k++) differences(a[k], b[k], `${path}[${k}]`, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path}: chart ${show(a)}, kustomize ${show(b)}`);
  }
}

export function renderProblems(pair: RenderPair): string[] {
  const renamed = new Map<string, string>();
  for (const o of pair.kustomize)
    if (o.kind === 'ConfigMap') {
      const plain = /^(.*)-[a-z0-9]{10}$/.exec(o.metadata?.name ?? '')?.[1];
      if (plain) renamed.set(o.metadata.name, plain);
    }
  const index = (objs: Obj[]) =>
    new Map(objs.map((o) => normalized(o, renamed) as Obj).map((o) => [objectKey(o), o] as const));
  const chart = index(pair.chart);
  const kustomize = index(pair.kustomize);
  const problems: string[] = [];
  const onlyIn = (
    here: Map<string, Obj>,
    there: Map<string, Obj>,
    allowed: Record<string, string>,
    side: string,
  ) => {
    for (const key of here.keys())
      if (!there.has(key) && !(key in allowed)) problems.push(`${key}: only in the ${side} render`);
    for (const key of Object.keys(allowed))
      if (!here.has(key) || there.has(key))
        problems.push(`${key} is listed as only in the ${side} render, but is not (helm-consistency.ts)`);
  };
  onlyIn(chart, kustomize, pair.onlyInChart, 'chart');
  onlyIn(kustomize, chart, pair.onlyInKustomize, 'kustomize');
  for (const [key, c] of chart) {
    const k = kustomize.get(key);
    if (!k) continue;
    // An object's own labels may be more in the chart (it labels every object alike, where
    // kustomize leaves generated and component objects with fewer); the ones kustomize sets
    // must be there, equal. Selectors and pod labels are compared whole.
    const labels: Obj = c.metadata?.labels ?? {};
    for (const l of Object.keys(labels)) if (!(l in (k.metadata?.labels ?? {}))) delete labels[l];
    if (Object.keys(labels).length === 0) delete c.metadata?.labels;
    const out: string[] = [];
    differences(c, k, '', out);
    problems.push(...out.map((d) => `${key}: ${d}`));
  }
  return problems;
}

// --- 4. the programs load what a render gives them -------------------------------------------

/** Where the chart and the kustomize base mount files: Secrets' keys and the TLS Secrets'. */
const MOUNTED_DIR = '/etc/sluice/';

/** What a mounted file could hold: tokens of 64 hex characters, a digest, a Redis URL, PEM. */
function fileSample(key: string, env: Record<string, string>): string {
  const hex = randomBytes(32).toString('hex');
  if (key === 'SLUICE_ZOOKEEPER_DIGEST') return `sluice:${hex}`;
  // A CA file for Redis is refused with a redis:// URL: the URL of a TLS setup is rediss://.
  if (key === 'SLUICE_REDIS_URL')
    return `${env.SLUICE_REDIS_TLS_CA_FILE ? 'rediss' : 'redis'}://:${hex}@redis:6379`;
  // The programs look for the PEM markers only: a sample of the right kind passes.
  if (key.endsWith('.key')) return `-----BEGIN PRIVATE KEY-----\n${hex}\n-----END PRIVATE KEY-----\n`;
  if (/\.(crt|pem)$/.test(key)) return `-----BEGIN CERTIFICATE-----\n${hex}\n-----END CERTIFICATE-----\n`;
  return hex;
}

/**
 * The environment a container of `objects` starts with: its ConfigMaps (envFrom), its env
 * values ($(POD_IP) given a sample address; optional Secret references left out), and each
 * file a setting names under /etc/sluice written with a sample into `dir` when the pod mounts
 * a volume there (a file of no mount keeps its path, which the programs then find missing).
 */
function containerEnv(objects: Obj[], pod: Obj, c: Obj, dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === from.configMapRef?.name);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of c.env ?? [])
    if (typeof e.value === 'string') env[e.name] = e.value.replace('$(POD_IP)', '10.1.2.3');
  const volumes = new Set((pod.volumes ?? []).map((v: Obj) => v.name));
  for (const [name, value] of Object.entries(env)) {
    if (!value.startsWith(MOUNTED_DIR)) continue;
    const mount = (c.volumeMounts ?? []).find(
      (m: Obj) => volumes.has(m.name) && value.startsWith(`${String(m.mountPath).replace(/\/$/, '')}/`),
    );
    if (!mount) continue;
    const file = join(dir, value.slice(MOUNTED_DIR.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, fileSample(basename(file), env), { mode: 0o600 });
    env[name] = file;
  }
  return env;
}

export function programLoadProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sluice-helm-check-'));
  try {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      for (const c of d.spec?.template?.spec?.containers ?? []) {
        const load = c.name === 'master' ? loadMasterConfig : c.name === 'worker' ? loadWorkerConfig : null;
        if (!load) continue;
        const env = containerEnv(objects, d.spec.template.spec, c, dir);
        const where = `Deployment/${d.metadata?.name} container ${c.name}`;
        try {
          load(env);
        } catch (err) {
          problems.push(`${where}: ${(err as Error).message.replace(/\n\s*/g, ' ')}`);
        }
        problems.push(...unknownSettingWarnings(env).map((w) => `${where}: ${w}`));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

// --- inputs ---------------------------------------------------------------------------------

/** The renders of run.sh compared, with the differences each pair is allowed and why. */
const PAIRS: { name: string; chart: string; kustomize: string; onlyInChart: Obj; onlyInKustomize: Obj }[] = [
  {
    name: 'chart with default values = deploy/k8s/base',
    chart: 'helm-default.yaml',
    kustomize: 'base.yaml',
    onlyInChart: {},
    onlyInKustomize: {
      'ServiceMonitor/sluice-master':
        "off by default in the chart (serviceMonitor.enabled): the Prometheus Operator's CRDs may be missing",
      'ServiceMonitor/sluice-worker': 'as ServiceMonitor/sluice-master',
    },
  },
  {
    name: 'chart with ci/all-on-values.yaml = deploy/k8s/overlays/example',
    chart: 'helm-all-on.yaml',
    kustomize: 'overlays-example.yaml',
    onlyInChart: {
      'NetworkPolicy/sluice-master':
        'the chart offers one (networkPolicy.enabled); the kustomize base has none',
      'NetworkPolicy/sluice-worker': 'as NetworkPolicy/sluice-master',
      'ConfigMap/sluice-grafana-dashboard':
        "the chart offers the dashboard to Grafana's sidecar (grafanaDashboard.enabled); with kustomize, import the JSON",
    },
    onlyInKustomize: {
      'Namespace/sluice': 'Helm makes the namespace itself (helm install --create-namespace)',
      'Secret/sluice-keda-redis':
        'placeholders of the KEDA component; the chart reads an existing Secret (keda.redisSecret)',
    },
  },
];

/** Renders of the chart with values that have no kustomize twin (run.sh makes one per ci/ file). */
const RENDERS = [{ name: 'chart with ci/tls-values.yaml', file: 'helm-tls.yaml' }];

/** Reads the chart, its README and the renders; a missing file is a problem, not a crash. */
export function loadChartInputs(
  root: string,
  renderedDir: string,
  yaml: YamlModule,
): { inputs: ChartInputs; missing: string[] } {
  const missing: string[] = [];
  const text = (p: string) => {
    if (existsSync(p)) return readFileSync(p, 'utf8');
    missing.push(`${p} is missing`);
    return '';
  };
  // YAML 1.1, as Kubernetes reads manifests: `defaultMode: 0440` is octal there.
  const objects = (file: string) =>
    yaml
      .parseAllDocuments(text(join(renderedDir, file)), { version: '1.1' })
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);
  const valuesText = text(join(root, CHART_DIR, 'values.yaml'));
  return {
    inputs: {
      settings: SETTING_TABLE,
      valuesText,
      values: (yaml.parse(valuesText) ?? {}) as Obj,
      chartReadme: text(join(root, CHART_DIR, 'README.md')),
      pairs: PAIRS.map((p) => ({
        name: p.name,
        chart: objects(p.chart),
        kustomize: objects(p.kustomize),
        onlyInChart: p.onlyInChart,
        onlyInKustomize: p.onlyInKustomize,
      })),
      renders: RENDERS.map((r) => ({ name: r.name, objects: objects(r.file) })),
    },
    missing,
  };
}

/** Every check of this file, one finding each. */
export function chartFindings(i: ChartInputs): Finding[] {
  return [
    {
      name: `${CHART_DIR}: settings are the programs' (names, no secrets, defaults or documented overrides)`,
      problems: settingProblems(i),
    },
    {
      name: `${CHART_DIR}/README.md's values table is the one values.yaml makes`,
      problems: valuesTableProblems(i),
    },
    ...i.pairs.flatMap((p) => [
      { name: `helm vs kustomize: ${p.name}`, problems: renderProblems(p) },
      {
        name: `the programs load the settings of each pod (${p.name})`,
        problems: [...programLoadProblems(p.chart), ...programLoadProblems(p.kustomize)],
      },
    ]),
    ...i.renders.map((r) => ({
      name: `the programs load the settings of each pod, their files mounted (${r.name})`,
      problems: programLoadProblems(r.objects),
    })),
  ];
}

if (import.meta.main && process.argv[2] === '--values-table') {
  const root = resolve(import.meta.dirname, '../..');
  const require = createRequire(join(root, '.cache/deploy-check/npm/package.json'));
  const yaml = require('yaml') as YamlModule;
  const text = readFileSync(join(root, CHART_DIR, 'values.yaml'), 'utf8');
  console.log(valuesTable(text, (yaml.parse(text) ?? {}) as Obj));
}
