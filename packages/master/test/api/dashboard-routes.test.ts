/** The dashboard's page and assets as served (their behaviour in a browser: test/browser). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

test('the page loads its script and style from this master under a strict CSP', async () => {
  const res = await f.call('GET', '/dashboard', undefined, null);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(res.body, /<script src="\/dashboard\/app\.js" defer><\/script>/);
  assert.doesNotMatch(res.body, /<script>/, 'no inline script');
  const js = await f.call('GET', '/dashboard/app.js', undefined, null);
  assert.match(String(js.headers['content-type']), /^text\/javascript/);
  assert.match(js.body, /\/api\/v1\/status/);
  assert.doesNotMatch(js.body, /innerHTML|eval\(|new Function/, 'API data never parsed as HTML or code');
  const css = await f.call('GET', '/dashboard/style.css', undefined, null);
  assert.match(String(css.headers['content-type']), /^text\/css/);
});

test('/ leads to the dashboard; the dashboard is not part of the API document', async () => {
  const res = await f.call('GET', '/', undefined, null);
  assert.equal(res.statusCode, 302);
  assert.equal(res.headers.location, '/dashboard');
  const doc = JSON.parse((await f.call('GET', '/docs/json', undefined, null)).body);
  assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/dashboard') || p === '/'));
});
