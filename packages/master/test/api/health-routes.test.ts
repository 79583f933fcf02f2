/** Probes, metrics, the OpenAPI document and unknown routes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

test('/healthz is 200 while the process serves', async () => {
  const res = await f.call('GET', '/healthz', undefined, null);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(json(res), { status: 'ok' });
});

test('/readyz follows ready(): 200, or 503 with the reasons', async () => {
  assert.deepEqual(json(await f.call('GET', '/readyz', undefined, null)), { ready: true, reasons: [] });
  f.ready.ok = false;
  f.ready.reasons = ['ZooKeeper session lost', 'Kafka unreachable'];
  try {
    const res = await f.call('GET', '/readyz', undefined, null);
    assert.equal(res.statusCode, 503);
    const b = json(res);
    assert.equal(b.code, 'SLUICE_ERR_UNAVAILABLE');
    assert.equal(b.message, 'not ready: ZooKeeper session lost; Kafka unreachable');
    assert.deepEqual(b.reasons, ['ZooKeeper session lost', 'Kafka unreachable']);
  } finally {
    f.ready.ok = true;
    f.ready.reasons = [];
  }
});

test('/metrics is the registry in Prometheus text format', async () => {
  const res = await f.call('GET', '/metrics', undefined, null);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(res.body, /^sluice_test_total 3$/m);
});

test('the OpenAPI document lists every route, its schemas and the bearer scheme', async () => {
  const res = await f.call('GET', '/docs/json', undefined, null);
  assert.equal(res.statusCode, 200);
  const doc = json(res);
  assert.match(doc.openapi, /^3\./);
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/api/v1/patterns',
    '/api/v1/patterns/{name}',
    '/api/v1/ranges/{id}/retry',
    '/api/v1/recover',
    '/api/v1/replays',
    '/api/v1/replays/{id}',
    '/api/v1/status',
    '/api/v1/topics',
    '/api/v1/topics-file',
    '/api/v1/topics-file/parse',
    '/api/v1/topics/{topic}',
    '/api/v1/topics/{topic}/audit',
    '/api/v1/workers',
    '/healthz',
    '/metrics',
    '/readyz',
  ]);
  assert.deepEqual(Object.keys(doc.paths['/api/v1/topics']).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(doc.paths['/api/v1/topics/{topic}']).sort(), [
    'delete',
    'get',
    'patch',
    'put',
  ]);
  const post = doc.paths['/api/v1/topics'].post;
  assert.deepEqual(post.security, [{ bearerAuth: [] }]);
  const body = post.requestBody.content['application/json'].schema;
  assert.equal(body.additionalProperties, false);
  assert.deepEqual(body.required, ['topic', 'destination']);
  assert.ok(post.responses['201'] && post.responses['400'] && post.responses['409']);
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  assert.deepEqual(doc.paths['/api/v1/recover'].post.security, [{ bearerAuth: [] }]);
  const partition =
    doc.paths['/api/v1/topics/{topic}'].get.responses['200'].content['application/json'].schema.properties
      .partitions.items;
  // Shared fragments are components (common-schemas.ts): the offset is described once, there.
  assert.equal(partition.properties.highWatermark.$ref, '#/components/schemas/NullableOffset');
  assert.match(doc.components.schemas.NullableOffset.description, /decimal string/);
  const yaml = await f.call('GET', '/docs/yaml', undefined, null);
  assert.equal(yaml.statusCode, 200);
  assert.match(yaml.body, /^openapi: 3\./m);
});

test("Swagger UI at /docs: its page and assets (built at the first request), and this API's 404 for what it lacks", async () => {
  const page = await f.call('GET', '/docs', undefined, null);
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  const css = /href="([^"]*swagger-ui\.css)"/.exec(page.body)?.[1];
  assert.ok(css, `the page links Swagger UI's stylesheet: ${page.body.slice(0, 300)}`);
  const asset = await f.call('GET', new URL(css, 'http://x/docs').pathname, undefined, null);
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['content-type']), /^text\/css/);
  assert.ok(asset.body.length > 10_000);
  const script = await f.call('GET', '/docs/static/swagger-initializer.js', undefined, null);
  assert.equal(script.statusCode, 200);
  assert.match(script.body, /json/);
  const missing = await f.call('GET', '/docs/static/none.js', undefined, null);
  assert.equal(missing.statusCode, 404);
  assert.match(json(missing).message, /no route GET \/docs\/static\/none\.js; .* documented at \/docs/);
});

test('an unknown route is a JSON 404 pointing at the docs', async () => {
  const res = await f.call('GET', '/api/v2/topics', undefined, null);
  assert.equal(res.statusCode, 404);
  assert.match(
    json(res).message,
    /no route GET \/api\/v2\/topics; the API is under \/api\/v1 and documented at \/docs/,
  );
});
