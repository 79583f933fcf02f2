/**
 * The consistency checks of deploy/check/run.sh, over what the tools produced: the rendered
 * kustomizations, the resolved Compose project, the Dockerfiles, the settings table of
 * packages/shared/src/config.ts (imported) and its table in README.md. Schemas are checked
 * by the tools (kubernetes-validate, crd-check.mjs, compose-check, hadolint); this file checks
 * what no schema can: that names refer to things that exist and the rules of the brief hold.
 *
 *   node deploy/check/check.ts <repo root> <tools dir> <rendered dir> <compose.json>
 *
 * Prints one line per check (`ok` or `FAIL`), exits 1 when any failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { SETTINGS } from '../../packages/shared/src/config.ts';
import {
  configTableMarkdown,
  configTableRows,
  findConfigTable,
} from '../../packages/shared/src/config-table.ts';
import { binNodeFlags } from '../../packages/test-kit/src/bin-flags.ts';
import { chartFindings, loadChartInputs, type YamlModule } from './helm-consistency.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON of any shape, checked field by field
type Obj = Record<string, any>;

const [root, toolsDir, renderedDir, composeJson] = process.argv.slice(2).map((a) => resolve(a));
if (!root || !toolsDir || !renderedDir || !composeJson) {
  console.error('usage: node check.ts <repo root> <tools dir> <rendered dir> <compose.json>');
  process.exit(2);
}
const require = createRequire(join(toolsDir, 'npm', 'package.json'));
const YAML = require('yaml') as YamlModule;

let failures = 0;
let _passes = 0;
function check(name: string, problems: string[]): void {
  if (problems.length === 0) {
    _passes++;
    console.log(`ok   ${name}`);
    return;
  }
  failures++;
  console.log(`FAIL ${name}`);
  for (const p of problems) console.log(`       - ${p}`);
}

const read = (p: string) => readFileSync(join(root, p), 'utf8');

// --- the settings -------------------------------------------------------------------------

// The names of the settings table of packages/shared/src/config.ts with the _FILE forms of
// its secrets (imported as source: no build needed).
const known = new Set<string>(SETTINGS);
const queueName = /RANGE_QUEUE_NAME = '([^']+)'/.exec(read('packages/shared/src/range-job.ts'))?.[1] ?? '';

check(`the settings table has ${SETTINGS.length} entries, all SLUICE_ names`, [
  ...(SETTINGS.length === 0 ? ['the settings table is empty'] : []),
  ...SETTINGS.filter((s) => !s.startsWith('SLUICE_')).map((s) => `${s} does not start with SLUICE_`),
]);

/** README.md's Configuration table against the one the settings table makes, row by row. */
function readmeTableProblems(): string[] {
  if (!existsSync(join(root!, 'README.md'))) return ['README.md is missing'];
  const lines = read('README.md').split('\n');
  const at = findConfigTable(lines);
  if (!at) return ['README.md has no Configuration table ("| setting | program | default | meaning |")'];
  const documented = new Set(lines.slice(at[0] + 2, at[1]));
  const problems = configTableRows()
    .filter((r) => !documented.has(r.line))
    .map(
      (r) => `${r.name}: README.md's row differs from the settings table (npm run docs:config -- --write)`,
    );
  if (problems.length === 0 && lines.slice(at[0], at[1]).join('\n') !== configTableMarkdown())
    problems.push('README.md has rows no setting makes, or out of order (npm run docs:config -- --write)');
  return problems;
}
check("README.md's Configuration table is the one the settings table makes", readmeTableProblems());

function unknownSettings(where: string, names: Iterable<string>): string[] {
  return [...new Set(names)]
    .filter((n) => n.startsWith('SLUICE_') && !known.has(n))
    .map(
      (n) => `${where}: ${n} is not a setting (not in the settings table of packages/shared/src/config.ts)`,
    );
}

// --- Kubernetes -----------------------------------------------------------------------------

// Secrets the operator creates (deploy/README.md), never in a render: the base ships none so
// that no placeholder token or password can be deployed; nor does the Helm chart, which also
// reads KEDA's Redis credentials from an existing Secret.
const OPERATOR_SECRETS = new Set(['sluice-secrets', 'sluice-keda-redis']);

const renders = readdirSync(renderedDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
check('kustomizations rendered', renders.length === 0 ? [`nothing rendered into ${renderedDir}`] : []);

const matches = (selector: Obj | undefined, labels: Obj | undefined) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

for (const file of renders) {
  const label = `k8s ${basename(file, '.yaml')}`;
  const docs = YAML.parseAllDocuments(readFileSync(join(renderedDir, file), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  const byName = (kind: string, name: string) => of(kind).find((d) => d.metadata?.name === name);
  const workloads = of('Deployment');
  const podLabels = workloads.map((w) => w.spec?.template?.metadata?.labels ?? {});

  // Settings: every SLUICE_ name a container gets, from env or envFrom.
  const envProblems: string[] = [];
  const prefixes = new Set<string>();
  for (const w of workloads) {
    for (const c of w.spec?.template?.spec?.containers ?? []) {
      const where = `${w.metadata.name}/${c.name}`;
      const names: string[] = (c.env ?? []).map((e: Obj) => e.name);
      for (const src of c.envFrom ?? []) {
        const ref = src.configMapRef ?? src.secretRef;
        const kind = src.configMapRef ? 'ConfigMap' : 'Secret';
        const target = byName(kind, ref?.name);
        if (!target) {
          if (!ref?.optional && !(kind === 'Secret' && OPERATOR_SECRETS.has(ref?.name)))
            envProblems.push(`${where}: envFrom ${kind} ${ref?.name} is not in the render`);
          continue;
        }
        names.push(
          ...Object.keys({ ...target.data, ...target.stringData }).map((k) => `${src.prefix ?? ''}${k}`),
        );
        if (kind === 'ConfigMap' && target.data?.SLUICE_QUEUE_PREFIX)
          prefixes.add(target.data.SLUICE_QUEUE_PREFIX);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional) {
          const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
          const target = byName(kind, ref.name);
          if (!target || !(ref.key in { ...target.data, ...target.stringData })) {
            envProblems.push(
              `${where}: env ${e.name} refers to ${kind} ${ref.name} key ${ref.key}, not in the render`,
            );
          }
        }
      }
      envProblems.push(...unknownSettings(where, names));
    }
  }
  check(`${label}: every SLUICE_ variable given to a container is a setting`, envProblems);

  // The rules every Sluice pod follows.
  const podProblems: string[] = [];
  for (const w of workloads) {
    const pod = w.spec?.template?.spec ?? {};
    for (const c of pod.containers ?? []) {
      const where = `${w.metadata.name}/${c.name}`;
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      if (nonRoot !== true) podProblems.push(`${where}: runAsNonRoot is not true`);
      if (sc.readOnlyRootFilesystem !== true)
        podProblems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false)
        podProblems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL'))
        podProblems.push(`${where}: capabilities do not drop ALL`);
      for (const k of ['requests', 'limits'])
        for (const r of ['cpu', 'memory'])
          if (!c.resources?.[k]?.[r]) podProblems.push(`${where}: no resources.${k}.${r}`);
      for (const p of ['readinessProbe', 'livenessProbe'])
        if (!c[p]?.httpGet) podProblems.push(`${where}: no HTTP ${p}`);
      const portNames = new Set((c.ports ?? []).map((p: Obj) => p.name));
      for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const port = c[p]?.httpGet?.port;
        if (typeof port === 'string' && !portNames.has(port))
          podProblems.push(`${where}: ${p} uses port ${port}, which the container does not name`);
      }
      if (c[`readinessProbe`]?.httpGet?.path !== '/readyz')
        podProblems.push(`${where}: readinessProbe is not /readyz`);
      if (c[`livenessProbe`]?.httpGet?.path !== '/healthz')
        podProblems.push(`${where}: livenessProbe is not /healthz`);
      const image: string = c.image ?? '';
      const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      if (!tag || tag === 'latest') podProblems.push(`${where}: image ${image} has no fixed tag`);
    }
  }
  const worker = workloads.find((w) => w.metadata?.name === 'sluice-worker');
  const master = workloads.find((w) => w.metadata?.name === 'sluice-master');
  if (!worker || !master) podProblems.push('the render lacks the sluice-master or sluice-worker Deployment');
  if (master && !(master.spec?.replicas >= 2))
    podProblems.push('sluice-master runs fewer than 2 replicas (no standby)');
  if (worker && !(worker.spec?.template?.spec?.terminationGracePeriodSeconds >= 300))
    podProblems.push('sluice-worker: terminationGracePeriodSeconds is below 300 s (the longest upload)');
  check(`${label}: pods are hardened, sized, probed and pinned`, podProblems);

  // References between objects: what no schema checks.
  const refProblems: string[] = [];
  for (const s of of('Service')) {
    const i = podLabels.findIndex((l) => matches(s.spec?.selector, l));
    if (i < 0) {
      refProblems.push(`Service ${s.metadata.name}: selector matches no Deployment's pods`);
      continue;
    }
    const ports = new Set(
      (workloads[i]!.spec.template.spec.containers ?? []).flatMap((c: Obj) =>
        (c.ports ?? []).flatMap((p: Obj) => [p.name, p.containerPort]),
      ),
    );
    for (const p of s.spec?.ports ?? [])
      if (!ports.has(p.targetPort ?? p.port))
        refProblems.push(`Service ${s.metadata.name}: targetPort ${p.targetPort} is not a port of its pods`);
  }
  for (const pdb of of('PodDisruptionBudget'))
    if (!podLabels.some((l) => matches(pdb.spec?.selector?.matchLabels, l)))
      refProblems.push(`PodDisruptionBudget ${pdb.metadata.name}: selector matches no Deployment's pods`);
  for (const sm of of('ServiceMonitor')) {
    const svc = of('Service').find((s) => matches(sm.spec?.selector?.matchLabels, s.metadata?.labels));
    if (!svc) {
      refProblems.push(`ServiceMonitor ${sm.metadata.name}: selector matches no Service`);
      continue;
    }
    for (const e of sm.spec?.endpoints ?? [])
      if (!(svc.spec?.ports ?? []).some((p: Obj) => p.name === e.port))
        refProblems.push(
          `ServiceMonitor ${sm.metadata.name}: Service ${svc.metadata.name} has no port named ${e.port}`,
        );
  }
  const scalers = [...of('HorizontalPodAutoscaler'), ...of('ScaledObject')];
  for (const s of scalers) {
    const ref = s.spec?.scaleTargetRef ?? {};
    if (!byName(ref.kind ?? 'Deployment', ref.name))
      refProblems.push(
        `${s.kind} ${s.metadata.name}: scale target ${ref.kind ?? 'Deployment'} ${ref.name} is not in the render`,
      );
  }
  const targets = scalers.map((s) => s.spec?.scaleTargetRef?.name);
  for (const t of new Set(targets))
    if (targets.filter((x) => x === t).length > 1)
      refProblems.push(`${t} has more than one autoscaler (an HPA and a ScaledObject fight over replicas)`);
  for (const so of of('ScaledObject')) {
    const prefix = prefixes.size === 1 ? [...prefixes][0] : 'sluice';
    for (const t of so.spec?.triggers ?? []) {
      const key: string = t.metadata?.listName ?? '';
      if (t.type?.startsWith('redis') && !key.startsWith(`${prefix}:${queueName}:`))
        refProblems.push(
          `ScaledObject ${so.metadata.name}: trigger ${t.name} counts ${key}, not a key of queue ${prefix}:${queueName}`,
        );
      const auth = t.authenticationRef?.name;
      if (auth && !byName(t.authenticationRef.kind ?? 'TriggerAuthentication', auth))
        refProblems.push(
          `ScaledObject ${so.metadata.name}: TriggerAuthentication ${auth} is not in the render`,
        );
    }
  }
  for (const ta of of('TriggerAuthentication'))
    for (const r of ta.spec?.secretTargetRef ?? [])
      if (!byName('Secret', r.name) && !OPERATOR_SECRETS.has(r.name))
        refProblems.push(`TriggerAuthentication ${ta.metadata.name}: Secret ${r.name} is not in the render`);
  check(`${label}: services, monitors, budgets and autoscalers point at what exists`, refProblems);
}

// --- Compose --------------------------------------------------------------------------------

const compose = JSON.parse(readFileSync(composeJson, 'utf8')) as Obj;
const services: Obj = compose.services ?? {};
check(
  'compose: every SLUICE_ variable is a setting',
  Object.entries(services).flatMap(([name, s]) =>
    unknownSettings(`service ${name}`, Object.keys(s.environment ?? {})),
  ),
);

function dockerfileHasHealthcheck(s: Obj): boolean {
  const df = s.build?.dockerfile ? join(s.build.context ?? '', s.build.dockerfile) : '';
  return !!df && existsSync(df) && /^HEALTHCHECK\s+(?!NONE)/m.test(readFileSync(df, 'utf8'));
}
const composeProblems: string[] = [];
for (const [name, s] of Object.entries(services)) {
  if (!s.build) {
    const image: string = s.image ?? '';
    const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
    if (!tag || tag === 'latest') composeProblems.push(`${name}: image ${image} has no fixed tag`);
  }
  for (const [dep, cfg] of Object.entries<Obj>(s.depends_on ?? {})) {
    const target = services[dep] ?? {};
    if (
      cfg.condition === 'service_healthy' &&
      (target.healthcheck?.disable || !target.healthcheck?.test) &&
      !dockerfileHasHealthcheck(target)
    )
      composeProblems.push(`${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    if (cfg.condition === 'service_completed_successfully' && target.restart && target.restart !== 'no')
      composeProblems.push(
        `${name} waits for ${dep} to complete, but ${dep} restarts (restart: ${target.restart})`,
      );
  }
}
const sluice = Object.entries(services).filter(([, s]) => /sluice-(master|worker)/.test(s.image ?? ''));
if (sluice.filter(([, s]) => /master/.test(s.image)).length < 2) composeProblems.push('fewer than 2 masters');
if (sluice.filter(([, s]) => /worker/.test(s.image)).length < 2) composeProblems.push('fewer than 2 workers');
const redis = Object.entries(services).find(([, s]) => /^redis:/.test(s.image ?? ''));
const redisCmd = (redis?.[1].command ?? []).join(' ');
if (!redis) composeProblems.push('no redis service');
else if (!/--appendonly yes/.test(redisCmd) || !/--maxmemory-policy noeviction/.test(redisCmd))
  composeProblems.push(
    `redis must run with --appendonly yes and --maxmemory-policy noeviction; command is "${redisCmd}"`,
  );
check('compose: images pinned, dependencies healthy, 2 masters, 2 workers, Redis durable', composeProblems);

// --- Dockerfiles ----------------------------------------------------------------------------

/** A .dockerignore as Docker reads it: last matching line wins, `!` re-includes. */
function ignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const rx = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '.*'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, rx: new RegExp(`^${rx}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.rx.test(path)) ignored = !r.negate;
    return ignored;
  };
}

const dockerDir = 'deploy/docker';
const dockerfiles = readdirSync(join(root, dockerDir)).filter((f) => /^Dockerfile\.[a-z]+$/.test(f));
const k8sUsers = new Set<number>();
for (const file of renders) {
  for (const d of YAML.parseAllDocuments(readFileSync(join(renderedDir, file), 'utf8')).map(
    (x) => x.toJS() as Obj,
  ))
    if (d?.kind === 'Deployment') k8sUsers.add(d.spec?.template?.spec?.securityContext?.runAsUser);
}
for (const df of dockerfiles) {
  const problems: string[] = [];
  const text = read(`${dockerDir}/${df}`);
  const ignorePath = `${dockerDir}/${df}.dockerignore`;
  if (!existsSync(join(root, ignorePath))) problems.push(`${ignorePath} is missing`);
  const ignored = existsSync(join(root, ignorePath)) ? ignoreMatcher(read(ignorePath)) : () => false;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const m = /^COPY\s+(.*)$/.exec(line.trim());
    if (!m || /--from=/.test(m[1]!)) continue;
    const parts = m[1]!.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) {
      if (!existsSync(join(root, src))) problems.push(`COPY ${src}: not in the repository`);
      else if (ignored(src)) problems.push(`COPY ${src}: excluded by ${basename(ignorePath)}`);
    }
  }
  const envNames = [...text.matchAll(/^ENV\s+(.*)$/gm)].flatMap((m) =>
    [...m[1]!.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((x) => x[1]!),
  );
  problems.push(...unknownSettings('ENV', envNames));
  const user = /^USER\s+(\S+)/m.exec(text)?.[1] ?? '';
  const uid = Number(user.split(':')[0]);
  if (!/^\d+(:\d+)?$/.test(user) || uid === 0)
    problems.push(`USER ${user || '(none)'}: must be a numeric non-root uid`);
  else if (k8sUsers.size > 0 && ![...k8sUsers].every((u) => u === uid))
    problems.push(`USER ${uid} differs from the Kubernetes runAsUser ${[...k8sUsers].join(', ')}`);
  if (!/^HEALTHCHECK\s.*healthz|^HEALTHCHECK\s.*healthcheck\.mjs/m.test(text.replace(/\\\n\s*/g, ' ')))
    problems.push('no HEALTHCHECK asking /healthz');
  const entryMatch = /^ENTRYPOINT\s+\["node",((?:\s*"--[^"]+",)*)\s*"\/app\/([^"]+)"\]/m.exec(text);
  const entry = entryMatch?.[2];
  if (!entry) problems.push('ENTRYPOINT is not ["node", <node flags>, "/app/<bin>"]');
  else if (!existsSync(join(root, entry)))
    problems.push(`ENTRYPOINT runs ${entry}, which is not in the repository`);
  else if (!/^import '\.\.\/dist\/bundle\/main\.js';$/m.test(read(entry)))
    problems.push(`ENTRYPOINT runs ${entry}, which does not run its bundle (../dist/bundle/main.js)`);
  else {
    // `node <bin>` skips the bin's first line, so the image must pass its Node flags itself.
    const flags = [...(entryMatch?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    const shebang = binNodeFlags(read(entry));
    if (flags.join(' ') !== shebang.join(' '))
      problems.push(
        `ENTRYPOINT passes node ${flags.join(' ') || '(no flags)'} but ${entry} asks for ${shebang.join(' ') || '(no flags)'} on its first line: give the ENTRYPOINT the same flags`,
      );
    // The bundle the bin runs is the one the build stage made: scripts/bundle.ts, then copied.
    const pkg = entry.replace(/\/bin\/[^/]+$/, '');
    const flat = text.replace(/\\\n\s*/g, ' ');
    if (!new RegExp(`^RUN .*node scripts/bundle\\.ts ${basename(pkg)}\\b`, 'm').test(flat))
      problems.push(`no RUN of node scripts/bundle.ts ${basename(pkg)} in the build`);
    if (!new RegExp(`^COPY --from=build /src/${pkg}/dist/bundle ${pkg}/dist/bundle$`, 'm').test(flat))
      problems.push(`the runtime stage does not COPY --from=build /src/${pkg}/dist/bundle`);
  }
  check(
    `${dockerDir}/${df}: copies what exists and is not ignored, sets only known settings, runs as non-root, runs the bundle it builds, checks /healthz`,
    problems,
  );
}

// --- the container health check -------------------------------------------------------------

async function healthcheckBehaves(): Promise<string[]> {
  const script = join(root!, dockerDir, 'healthcheck.mjs');
  let status = 200;
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? status : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as AddressInfo).port);
  const env = { PATH: process.env.PATH };
  const exitCode = (args: string[], e: NodeJS.ProcessEnv) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [script, ...args], { env: e, stdio: 'ignore' });
      child.on('exit', (code) => resolve(code ?? -1));
    });
  const problems: string[] = [];
  if ((await exitCode([port], env)) !== 0) problems.push('exits non-zero while /healthz answers 200');
  if ((await exitCode(['1'], { ...env, SLUICE_HTTP_PORT: port })) !== 0)
    problems.push('ignores SLUICE_HTTP_PORT');
  status = 503;
  if ((await exitCode([port], env)) !== 1) problems.push('exits other than 1 while /healthz answers 503');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if ((await exitCode([port], env)) !== 1) problems.push('exits other than 1 when nothing listens');
  return problems;
}
check(`${dockerDir}/healthcheck.mjs: 0 on 200, 1 on 503 or no answer`, await healthcheckBehaves());

// --- the Helm chart against the kustomize renders, the settings table and its README ----------

const chart = loadChartInputs(root, renderedDir, YAML);
check('the Helm chart and its renders are there', chart.missing);
for (const f of chartFindings(chart.inputs)) check(f.name, f.problems);

process.exit(failures > 0 ? 1 : 0);
