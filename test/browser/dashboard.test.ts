/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) against a real master and worker on the local stack: the page shows a
 * registered topic with its real numbers moving while data flows, its failures with their
 * error text, and its buttons act through the API with the operator's token. Leaves a
 * screenshot in docs/dashboard.png (the one the README shows).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { apiClient } from '../helpers/api.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { REPO, type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { startTraffic, type Traffic } from '../helpers/traffic.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const cluster = new TestCluster({ name: 'dashboard' });
const kafka = kafkaClient();
const s3 = s3Client();
const bucket = uniqueName('it-dash').toLowerCase();
let dropBucket: () => Promise<void>;
let master: SluiceProcess;
let api: ReturnType<typeof apiClient>;
let weblogs: TestTopic;
let clicks: TestTopic;
let traffic: Traffic;
let browser: Browser;
let page: Page;

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  master = await cluster.startMaster();
  await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '4' });
  api = apiClient(master.url, cluster.token);
  weblogs = await createTopic(kafka, uniqueName('weblogs'), 3);
  clicks = await createTopic(kafka, uniqueName('clicks'), 1);
  const reg = await api.post('/api/v1/topics', {
    topic: weblogs.name,
    destination: { bucket, prefix: 'raw' },
    compression: 'zstd',
    maxRangeMessages: 2_000,
    flushIntervalMs: 1_000,
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  // A topic whose bucket is removed right after its registration (a bucket that does not exist
  // is refused at registration): its ranges fail, with the error text for the operator.
  await clicks.producer.send({
    topic: clicks.name,
    messages: Array.from({ length: 50 }, (_, i) => ({ value: JSON.stringify({ click: i }) })),
  });
  const goneBucket = await createBucket(s3, `${bucket}-gone`);
  const bad = await api.post('/api/v1/topics', {
    topic: clicks.name,
    destination: { bucket: `${bucket}-gone` },
    flushIntervalMs: 500,
  });
  assert.equal(bad.status, 201, JSON.stringify(bad.body));
  await goneBucket.delete();
  traffic = startTraffic(weblogs.producer, weblogs.name, { partitions: 3, batch: 300, everyMs: 200 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
});

after(async () => {
  await traffic?.stop();
  await browser?.close();
  await cluster.stopAll();
  await weblogs?.delete();
  await clicks?.delete();
  await dropBucket?.();
});

/** The committed count in the topic's row, as the page shows it. */
async function committedShown(topic: string): Promise<number> {
  const text = await page.locator(`tr.topic-row[data-topic="${topic}"] td:nth-child(4)`).textContent();
  return Number((text ?? '').replace(/[^0-9]/g, ''));
}

test('the page shows the registered topic, and its committed count moves as data flows', async () => {
  await page.goto(`${master.url}/dashboard`);
  await page.fill('#token', cluster.token);
  await page.click('#token-save');
  const row = page.locator(`tr.topic-row[data-topic="${weblogs.name}"]`);
  await row.waitFor({ timeout: 30_000 });
  assert.match(
    (await page.locator('#leader').textContent()) ?? '',
    new RegExp(`leader ${cluster.name}-master-1`),
  );

  const first = await waitFor(
    'a first committed count on the page',
    async () => {
      const n = await committedShown(weblogs.name);
      return n > 0 ? n : false;
    },
    90_000,
    1_000,
  );
  const second = await waitFor(
    'the committed count on the page to grow',
    async () => {
      const n = await committedShown(weblogs.name);
      return n > first ? n : false;
    },
    60_000,
    1_000,
  );
  assert.ok(second > first, `${second} > ${first}`);

  // The page's numbers are the API's numbers.
  const status = (await api.get('/api/v1/status')).body;
  const t = status.topics.find((x: { topic: string }) => x.topic === weblogs.name);
  assert.ok(t.committedRecords >= second, 'the page never shows more than the API has');
  assert.equal(t.partitions.length, 3);
  const workers = await page.locator('#workers tbody tr').allInnerTexts();
  assert.ok(
    workers.some((w) => w.includes(`${cluster.name}-worker-2`)),
    workers.join('\n'),
  );
});

test('failures and throughput are shown; a screenshot goes to docs/dashboard.png', async () => {
  await page
    .locator('#failures tbody tr', { hasText: `${clicks.name}-0-` })
    .first()
    .waitFor({ timeout: 90_000 });
  await waitFor(
    'a throughput line on the chart',
    async () => (await page.locator('#chart path.line').count()) > 0,
    60_000,
    1_000,
  );
  // Let the line grow for the picture: three quarters of a minute of samples.
  await waitFor(
    '45 s of throughput samples',
    async () => {
      const h = (await api.get('/api/v1/status')).body.throughput.history as Array<{ at: string }>;
      return h.length > 1 && Date.parse(h.at(-1)!.at) - Date.parse(h[0]!.at) >= 45_000;
    },
    90_000,
    2_000,
  );
  await page.locator(`tr.topic-row[data-topic="${weblogs.name}"]`).click();
  await page.locator('tr.detail table').waitFor();
  await page.waitForTimeout(3_500);
  await page.screenshot({ path: join(REPO, 'docs', 'dashboard.png'), fullPage: true });
});

test('a failed range shows with its error text, and Retry asks the leader for a new attempt', async () => {
  const row = page.locator('#failures tbody tr', { hasText: `${clicks.name}-0-` });
  await row.first().waitFor({ timeout: 90_000 });
  const text = (await row.first().textContent()) ?? '';
  assert.match(text, /NoSuchBucket|does not exist|not exist/i, text);
  await row.first().locator('button[data-action="retry"]').click();
  await waitFor(
    'the retry to be acknowledged',
    async () => {
      const toast = (await page.locator('#toast').textContent()) ?? '';
      return /retry of .* requested/.test(toast) ? toast : false;
    },
    15_000,
    200,
  );
});

test('the Pause button pauses the topic (the API then says paused: true), Resume resumes it', async () => {
  await page.click(`button[data-action="pause"][data-topic="${weblogs.name}"]`);
  await waitFor(
    'the API to show the topic paused',
    async () => {
      const res = await api.get(`/api/v1/topics/${weblogs.name}`);
      return res.body.paused === true;
    },
    15_000,
    300,
  );
  await page
    .locator(`button[data-action="resume"][data-topic="${weblogs.name}"]`)
    .waitFor({ timeout: 10_000 });
  assert.equal(
    await page.locator(`tr.topic-row[data-topic="${weblogs.name}"] .badge`).textContent(),
    'paused',
  );
  await page.click(`button[data-action="resume"][data-topic="${weblogs.name}"]`);
  await waitFor(
    'the API to show the topic resumed',
    async () => (await api.get(`/api/v1/topics/${weblogs.name}`)).body.paused === false,
    15_000,
    300,
  );
});

test('without the token, the page says what is missing when an action is refused', async () => {
  const other = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  try {
    await other.goto(`${master.url}/dashboard`);
    await other.click(`button[data-action="pause"][data-topic="${weblogs.name}"]`);
    const toast = await waitFor(
      'a refusal',
      async () => {
        const t = (await other.locator('#toast').textContent()) ?? '';
        return t ? t : false;
      },
      15_000,
      200,
    );
    assert.match(toast, /missing bearer token.*enter the API token/);
    assert.equal((await api.get(`/api/v1/topics/${weblogs.name}`)).body.paused, false);
  } finally {
    await other.close();
  }
});

test('with SLUICE_PROTECT_READS the page asks for the token, then reads with it', async () => {
  const guarded = await cluster.startMaster({ SLUICE_PROTECT_READS: 'true' });
  const other = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  try {
    await other.goto(`${guarded.url}/dashboard`);
    const banner = await waitFor(
      'the banner asking for the token',
      async () => {
        const b = other.locator('#banner');
        return (await b.isVisible()) ? ((await b.textContent()) ?? '') : false;
      },
      15_000,
      200,
    );
    assert.match(banner, /Reads are protected on this master: .*enter the API token/);
    await other.fill('#token', cluster.token);
    await other.click('#token-save');
    await other.locator(`tr.topic-row[data-topic="${weblogs.name}"]`).waitFor({ timeout: 15_000 });
    assert.equal(await other.locator('#banner').isVisible(), false);
  } finally {
    await other.close();
    await guarded.stop();
  }
});
