// Validates custom resources (kinds that Kubernetes' own schemas do not know) offline, with the
// pinned @kubernetes-models packages of package.json. Run from the folder those packages are
// installed in (run.sh copies this file there):
//   node crd-check.mjs --list-kinds            the apiVersion/kind pairs it can validate
//   node crd-check.mjs objects.json            [{ "where": "...", "object": {...} }, ...]
//
// Two passes, because neither alone is enough:
//  1. the packages' JSON-schema validators (generated from the CRDs' openAPIV3Schema):
//     required fields, types, patterns, enums;
//  2. TypeScript's excess-property check of each object as a literal of the package's
//     interface: an unknown field at any depth. CRD schemas allow unknown fields (the API
//     server prunes them), so a misspelt field would pass pass 1 and be dropped silently,
//     or be refused by `kubectl apply` with server-side field validation.
// Exit status: 0 all valid, 1 an object is invalid or of a kind this file does not know.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** apiVersion/kind -> module of its model. Add a kind here and its package to package.json. */
const MODELS = {
  'monitoring.coreos.com/v1/ServiceMonitor':
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor':
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule':
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
  'keda.sh/v1alpha1/ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
  'keda.sh/v1alpha1/TriggerAuthentication': '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
};

const keyOf = (o) => `${o?.apiVersion}/${o?.kind}`;

if (process.argv[2] === '--list-kinds') {
  console.log(Object.keys(MODELS).join('\n'));
  process.exit(0);
}
if (!process.argv[2]) {
  console.error('usage: node crd-check.mjs objects.json | --list-kinds');
  process.exit(2);
}

const items = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const failedAt = new Set();
let failed = 0;
const fail = (where, message) => {
  failed++;
  failedAt.add(where);
  console.log(`FAIL ${where}: ${message}`);
};

// Pass 1: the JSON-schema validators.
const known = [];
for (const { where, object } of items) {
  const module = MODELS[keyOf(object)];
  if (!module) {
    fail(where, `no schema for ${keyOf(object)}: add its model to deploy/check/tools`);
    continue;
  }
  const kind = object.kind;
  const Model = (await import(module))[kind];
  try {
    new Model(object).validate();
  } catch (err) {
    fail(where, `${kind} does not match its CRD schema: ${err.message}`);
  }
  known.push({ where, object, module, kind });
}

// Pass 2: unknown fields, through TypeScript's excess-property check.
if (known.length > 0) {
  const out = known.map(({ module, kind }, i) => `import type { I${kind} as T${i} } from '${module}';`);
  const spans = known.map(({ object, where }, i) => {
    const body = `export const o${i}: T${i} = ${JSON.stringify(object, null, 2)};`;
    const start = out.length + 1;
    out.push(...body.split('\n'));
    return { where, start, end: out.length };
  });
  writeFileSync(join(HERE, 'crd-objects.ts'), `${out.join('\n')}\n`);
  let output = '';
  try {
    const tsc = join(HERE, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(HERE, 'tsconfig.crd.json')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || String(err);
  }
  for (const diag of output.split('\n').filter((l) => l.trim())) {
    const m = /crd-objects\.ts\((\d+),\d+\): error (TS\d+): (.*)$/.exec(diag);
    if (!m) {
      if (/error/i.test(diag)) fail('tsc', diag.trim());
      continue;
    }
    const at = Number(m[1]);
    const span = spans.find((s) => at >= s.start && at <= s.end);
    fail(span ? span.where : `crd-objects.ts line ${at}`, `${m[3]} (${m[2]})`);
  }
}

for (const { where, object } of known) {
  if (!failedAt.has(where)) console.log(`ok   ${where}: ${object.kind} ${object.metadata?.name}`);
}
process.exit(failed > 0 ? 1 : 0);
