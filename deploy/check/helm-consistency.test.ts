/**
 * The self-test of helm-consistency.ts: the chart as it is passes, and each disagreement planted
 * between the chart, the kustomize renders, the settings table and the chart's README fails
 * with a message naming it. A check that cannot fail would prove nothing. Runs inside
 * `npm run deploy:check` (run.sh), after the renders it reads:
 *
 *   DEPLOY_CHECK_TOOLS=.cache/deploy-check DEPLOY_CHECK_RENDERED=.cache/deploy-check/out/rendered \
 *     node --test deploy/check/helm-consistency.test.ts
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { type ChartInputs, chartFindings, loadChartInputs, type YamlModule } from './helm-consistency.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape
type Obj = Record<string, any>;

const root = resolve(import.meta.dirname, '../..');
const tools = resolve(process.env.DEPLOY_CHECK_TOOLS ?? join(root, '.cache/deploy-check'));
const rendered = resolve(process.env.DEPLOY_CHECK_RENDERED ?? join(tools, 'out/rendered'));
const yaml = createRequire(join(tools, 'npm', 'package.json'))('yaml') as YamlModule;

/** Fresh inputs read from disk, changed by `plant`. */
function inputs(plant: (i: ChartInputs) => void = () => {}): ChartInputs {
  const { inputs, missing } = loadChartInputs(root, rendered, yaml);
  assert.deepEqual(missing, [], 'run `npm run deploy:check` first: it renders what this test reads');
  plant(inputs);
  return inputs;
}

/** The problems of every failing check, as "check: problem" lines. */
const problems = (i: ChartInputs) =>
  chartFindings(i).flatMap((f) => f.problems.map((p) => `${f.name}: ${p}`));

function assertFails(i: ChartInputs, pattern: RegExp): void {
  const found = problems(i);
  assert.ok(
    found.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got:\n${found.join('\n') || '(none)'}`,
  );
}

const objectOf = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `${kind}/${name} is in the render`);
  return o;
};
const container = (objs: Obj[], name: string) =>
  objectOf(objs, 'Deployment', name).spec.template.spec.containers[0];
const defaultPair = (i: ChartInputs) => i.pairs[0]!;

test('the chart as it is agrees with the kustomize renders, the settings table and its README', () => {
  assert.deepEqual(problems(inputs()), []);
});

test('a chart default that is not the programs’ and not a documented override fails', () => {
  assertFails(
    inputs((i) => {
      i.values.config.SLUICE_ZK_SESSION_TIMEOUT_MS = '12000';
    }),
    /config\.SLUICE_ZK_SESSION_TIMEOUT_MS is "12000" but the programs' default is "10000"/,
  );
});

test('a setting name the programs do not know fails', () => {
  assertFails(
    inputs((i) => {
      i.values.config.SLUICE_KAFKA_BROKER = 'kafka:9092';
    }),
    /config\.SLUICE_KAFKA_BROKER is not a setting/,
  );
});

test('a secret among the values fails', () => {
  assertFails(
    inputs((i) => {
      i.values.config.SLUICE_REDIS_URL = 'redis://:password@redis:6379';
    }),
    /config\.SLUICE_REDIS_URL is a secret/,
  );
});

test('an override documented with the wrong programs’ default fails', () => {
  assertFails(
    inputs((i) => {
      i.chartReadme = i.chartReadme.replace(
        /^\| `SLUICE_PROTECT_READS` \| `true` \| `false` \|/m,
        '| `SLUICE_PROTECT_READS` | `true` | `true` |',
      );
    }),
    /override row of SLUICE_PROTECT_READS says chart "true", programs "true"/,
  );
});

test('a setting whose value differs between the chart and the kustomize base fails', () => {
  assertFails(
    inputs((i) => {
      const cm = defaultPair(i).kustomize.find((o) => o.kind === 'ConfigMap');
      cm!.data.SLUICE_STALL_TIMEOUT_MS = '30000';
    }),
    /ConfigMap\/sluice-config: data\.SLUICE_STALL_TIMEOUT_MS: chart "60000", kustomize "30000"/,
  );
});

test('a probe path that differs between the chart and the kustomize base fails', () => {
  assertFails(
    inputs((i) => {
      container(defaultPair(i).chart, 'sluice-worker').readinessProbe.httpGet.path = '/healthz';
    }),
    /Deployment\/sluice-worker: .*readinessProbe\.httpGet\.path: chart "\/healthz", kustomize "\/readyz"/,
  );
});

test('a port that differs between the chart and the kustomize base fails', () => {
  assertFails(
    inputs((i) => {
      objectOf(defaultPair(i).chart, 'Service', 'sluice-master').spec.ports[0].port = 8088;
    }),
    /Service\/sluice-master: spec\.ports\[http\]\.port: chart 8088, kustomize 8080/,
  );
});

test('an object that only one of the two renders has, for no stated reason, fails', () => {
  assertFails(
    inputs((i) => {
      const pair = defaultPair(i);
      pair.chart = pair.chart.filter((o) => o.kind !== 'HorizontalPodAutoscaler');
    }),
    /HorizontalPodAutoscaler\/sluice-worker: only in the kustomize render/,
  );
});

test('a values table whose default differs from values.yaml fails', () => {
  assertFails(
    inputs((i) => {
      i.chartReadme = i.chartReadme.replace('| `worker.replicas` | `2` |', '| `worker.replicas` | `3` |');
    }),
    /values table lacks or differs from: \| `worker\.replicas` \| `2` \|/,
  );
});

test('a value without a comment in values.yaml fails', () => {
  assertFails(
    inputs((i) => {
      i.valuesText = i.valuesText.replace(
        '  # Most workers KEDA makes.\n  maxReplicaCount: 20',
        '  maxReplicaCount: 20',
      );
    }),
    /keda\.maxReplicaCount has no comment/,
  );
});

test('a setting value the program refuses fails, in the chart and in the kustomize render alike', () => {
  for (const side of ['chart', 'kustomize'] as const)
    assertFails(
      inputs((i) => {
        const cm = defaultPair(i)[side].find((o) => o.kind === 'ConfigMap');
        cm!.data.SLUICE_WORKER_CONCURRENCY = 'two';
      }),
      /programs load the settings .*Deployment\/sluice-worker container worker: .*SLUICE_WORKER_CONCURRENCY/,
    );
});

test('a misspelt setting name in a pod’s env fails', () => {
  assertFails(
    inputs((i) => {
      const env: Obj[] = container(defaultPair(i).chart, 'sluice-master').env;
      env.find((e) => e.name === 'SLUICE_API_TOKEN_FILE')!.name = 'SLUICE_API_TOKENS_FILE';
    }),
    /container master: .*SLUICE_API_TOKENS_FILE/,
  );
});

const tlsRender = (i: ChartInputs) => i.renders.find((r) => r.name.includes('tls-values'))!.objects;

test('a TLS file whose Secret the pod does not mount fails', () => {
  assertFails(
    inputs((i) => {
      const pod = objectOf(tlsRender(i), 'Deployment', 'sluice-worker').spec.template.spec;
      pod.volumes = pod.volumes.filter((v: Obj) => v.name !== 'kafka-tls');
    }),
    /tls-values.*sluice-worker container worker: .*SLUICE_KAFKA_SSL_CA_FILE names the file \/etc\/sluice\/kafka-tls\/ca\.crt, which does not exist/,
  );
});

test('TLS files without SLUICE_KAFKA_SSL=true fail', () => {
  assertFails(
    inputs((i) => {
      const c = container(tlsRender(i), 'sluice-master');
      c.env = c.env.filter((e: Obj) => e.name !== 'SLUICE_KAFKA_SSL');
    }),
    /tls-values.*sluice-master container master: .*SLUICE_KAFKA_SSL is not true/,
  );
});
