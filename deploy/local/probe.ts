// Readiness probe of the local stack: asks one service a real question and exits 0 when it
// answers as a working server would, 1 otherwise (the reason goes to stderr).
//
//   node deploy/local/probe.ts kafka     <host> <port>   Metadata request: a live broker is listed
//   node deploy/local/probe.ts zookeeper <host> <port>   `srvr` four-letter word: the server is serving
//   node deploy/local/probe.ts redis     <host> <port>   PING answered with PONG (not LOADING)
//   node deploy/local/probe.ts s3        <host> <port>   ListBuckets signed with AWS SigV4
//   node deploy/local/probe.ts registry  <host> <port>   GET <SLUICE_STACK_REGISTRY_PATH>/subjects: a JSON list
//
// Only node: built-ins, so stack.sh works before `npm install`. The S3 probe reads the
// credentials from SLUICE_STACK_S3_ACCESS_KEY, SLUICE_STACK_S3_SECRET_KEY and
// SLUICE_STACK_S3_REGION. Each attempt gives up after SLUICE_PROBE_TIMEOUT_MS (default 3000).

import { createHash, createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const timeoutMs = Number(process.env.SLUICE_PROBE_TIMEOUT_MS ?? 3000);

class ProbeError extends Error {}

/** Opens a TCP connection, or rejects once timeoutMs has passed. */
function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new ProbeError(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `request` and collects bytes until `complete` says the answer is whole or the peer closes. */
function exchange(socket: Socket, request: Buffer, complete: (data: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const done = () => {
      socket.off('data', onData);
      socket.off('end', done);
      resolve(data);
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (complete(data)) done();
    };
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('error', reject);
    socket.write(request);
  });
}

// ---------------------------------------------------------------------------- Kafka

/** A request with header v1 (api key, version, correlation id, client id), size-prefixed. */
function kafkaRequest(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('sluice-stack-probe');
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + clientId.length + body.length, 0);
  return Buffer.concat([size, header, clientId, body]);
}

async function kafkaCall(socket: Socket, request: Buffer, correlationId: number): Promise<Buffer> {
  const frameComplete = (data: Buffer) => data.length >= 4 && data.length >= 4 + data.readInt32BE(0);
  const data = await exchange(socket, request, frameComplete);
  if (!frameComplete(data)) throw new ProbeError('the broker closed the connection before answering');
  const frame = data.subarray(4, 4 + data.readInt32BE(0));
  if (frame.readInt32BE(0) !== correlationId) throw new ProbeError('the broker answered another request');
  return frame.subarray(4);
}

async function probeKafka(host: string, port: number): Promise<string> {
  const socket = await open(host, port);
  try {
    // ApiVersions v0: every broker answers it, and it says which Metadata versions it accepts.
    const versions = await kafkaCall(socket, kafkaRequest(18, 0, 1, Buffer.alloc(0)), 1);
    const errorCode = versions.readInt16BE(0);
    if (errorCode !== 0) throw new ProbeError(`ApiVersions failed with error code ${errorCode}`);
    let metadataRange: [number, number] | undefined;
    const count = versions.readInt32BE(2);
    for (let i = 0; i < count; i++) {
      const at = 6 + i * 6;
      if (versions.readInt16BE(at) === 3)
        metadataRange = [versions.readInt16BE(at + 2), versions.readInt16BE(at + 4)];
    }
    if (!metadataRange) throw new ProbeError('the broker does not offer the Metadata API');
    // Versions 4 to 8 share the simple (non-flexible) encoding that this probe speaks.
    const version = Math.min(Math.max(metadataRange[0], 4), 8);
    if (version < metadataRange[0] || version > metadataRange[1]) {
      throw new ProbeError(
        `the broker accepts Metadata v${metadataRange[0]}-v${metadataRange[1]}, the probe speaks v4-v8`,
      );
    }
    // topics = null (all), allow_auto_topic_creation = false, and from v8 two more false flags.
    const body = Buffer.alloc(version >= 8 ? 7 : 5);
    body.writeInt32BE(-1, 0);
    const metadata = await kafkaCall(socket, kafkaRequest(3, version, 2, body), 2);
    let at = 4; // throttle_time_ms
    const brokers = metadata.readInt32BE(at);
    at += 4;
    const listed: string[] = [];
    for (let i = 0; i < brokers; i++) {
      const nodeId = metadata.readInt32BE(at);
      const hostLength = metadata.readInt16BE(at + 4);
      const brokerHost = metadata.toString('utf8', at + 6, at + 6 + hostLength);
      at += 6 + hostLength;
      const brokerPort = metadata.readInt32BE(at);
      at += 4;
      const rackLength = metadata.readInt16BE(at);
      at += 2 + Math.max(rackLength, 0);
      listed.push(`${nodeId}@${brokerHost}:${brokerPort}`);
    }
    const clusterIdLength = metadata.readInt16BE(at);
    const clusterId =
      clusterIdLength < 0 ? 'none' : metadata.toString('utf8', at + 2, at + 2 + clusterIdLength);
    at += 2 + Math.max(clusterIdLength, 0);
    const controllerId = metadata.readInt32BE(at);
    if (brokers === 0) throw new ProbeError('the broker answers but lists no live broker yet');
    return `brokers ${listed.join(',')}, cluster ${clusterId}, controller ${controllerId}`;
  } finally {
    socket.destroy();
  }
}

// ---------------------------------------------------------------------------- ZooKeeper

async function probeZookeeper(host: string, port: number): Promise<string> {
  const socket = await open(host, port);
  try {
    // The server closes the connection after answering a four-letter word.
    const answer = (await exchange(socket, Buffer.from('srvr'), () => false)).toString('utf8');
    if (answer === '') throw new ProbeError('empty answer to srvr (is 4lw.commands.whitelist set?)');
    const mode = /^Mode: (.+)$/m.exec(answer);
    if (!mode) throw new ProbeError(`not serving yet: ${answer.trim().split('\n')[0]}`);
    const version = /^Zookeeper version: ([^-,\s]+)/m.exec(answer);
    return `mode ${mode[1]}, version ${version?.[1] ?? 'unknown'}`;
  } finally {
    socket.destroy();
  }
}

// ---------------------------------------------------------------------------- Redis

async function probeRedis(host: string, port: number): Promise<string> {
  const socket = await open(host, port);
  try {
    const request = Buffer.from('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n');
    const answer = (
      await exchange(socket, request, (data) => {
        const text = data.toString('utf8');
        return text.startsWith('-') || (text.startsWith('+PONG\r\n$') && text.endsWith('\r\n\r\n'));
      })
    ).toString('utf8');
    if (!answer.startsWith('+PONG'))
      throw new ProbeError(`PING answered ${JSON.stringify(answer.split('\r\n')[0])}`);
    const version = /redis_version:([^\r\n]+)/.exec(answer);
    return `PONG, version ${version?.[1] ?? 'unknown'}`;
  } finally {
    socket.destroy();
  }
}

// ---------------------------------------------------------------------------- S3

const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

async function probeS3(host: string, port: number): Promise<string> {
  const accessKey = process.env.SLUICE_STACK_S3_ACCESS_KEY;
  const secretKey = process.env.SLUICE_STACK_S3_SECRET_KEY;
  const region = process.env.SLUICE_STACK_S3_REGION ?? 'us-east-1';
  if (!accessKey || !secretKey)
    throw new ProbeError('SLUICE_STACK_S3_ACCESS_KEY and SLUICE_STACK_S3_SECRET_KEY must be set');
  const hostHeader = `${host}:${port}`;
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex('');
  const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
  const canonicalRequest = [
    'GET',
    '/',
    '',
    `host:${hostHeader}`,
    `x-amz-content-sha256:${payloadHash}`,
    `x-amz-date:${amzDate}`,
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  const response = await fetch(`http://${hostHeader}/`, {
    headers: {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  if (response.status !== 200 || !body.includes('ListAllMyBucketsResult')) {
    throw new ProbeError(
      `ListBuckets answered HTTP ${response.status}: ${body.slice(0, 200).replace(/\s+/g, ' ')}`,
    );
  }
  const buckets = body.match(/<Bucket>/g)?.length ?? 0;
  return `ListBuckets OK, ${buckets} bucket(s)`;
}

// ---------------------------------------------------------------------------- Schema Registry

/** The Confluent-compatible API lists its subjects: Apicurio answers it once storage is ready. */
async function probeRegistry(host: string, port: number): Promise<string> {
  const path = process.env.SLUICE_STACK_REGISTRY_PATH ?? '/apis/ccompat/v7';
  const response = await fetch(`http://${host}:${port}${path}/subjects`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  let subjects: unknown;
  try {
    subjects = JSON.parse(body);
  } catch {
    subjects = undefined;
  }
  if (response.status !== 200 || !Array.isArray(subjects)) {
    throw new ProbeError(`GET ${path}/subjects answered HTTP ${response.status}: ${body.slice(0, 200)}`);
  }
  return `subjects OK, ${subjects.length} subject(s)`;
}

// ---------------------------------------------------------------------------- main

const probes: Record<string, (host: string, port: number) => Promise<string>> = {
  kafka: probeKafka,
  zookeeper: probeZookeeper,
  redis: probeRedis,
  s3: probeS3,
  registry: probeRegistry,
};

const [service = '', host = '127.0.0.1', portText = ''] = process.argv.slice(2);
const probe = probes[service];
const port = Number(portText);
if (!probe || !Number.isInteger(port) || port <= 0) {
  process.stderr.write(`usage: node probe.ts <${Object.keys(probes).join('|')}> <host> <port>\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${await probe(host, port)}\n`);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  process.stderr.write(`${service} probe: ${code ? `${code} ` : ''}${message}\n`);
  process.exit(1);
}
