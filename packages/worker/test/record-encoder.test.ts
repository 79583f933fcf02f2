import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonlLineHead } from '@sluice/shared';
import { ChunkBuilder } from '../src/chunk-builder.ts';
import { type EncodableRecord, parseJsonText, RecordEncoder } from '../src/record-encoder.ts';

function rec(over: Partial<EncodableRecord> = {}): EncodableRecord {
  return {
    offset: 42n,
    timestamp: 1_764_057_600_000n,
    key: Buffer.from('k1'),
    value: Buffer.from('{"a":1}'),
    headers: [],
    ...over,
  };
}

const jsonl = () => new RecordEncoder({ format: 'jsonl', topic: 'orders', partition: 3 });

/** The encoded line, checked to be one line of valid JSON, and parsed. */
function line(enc: RecordEncoder, r: EncodableRecord): { text: string; obj: Record<string, unknown> } {
  const out = enc.encode(r);
  assert.equal(typeof out, 'string');
  const text = out as string;
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  assert.equal(text.indexOf('\n'), text.length - 1, 'exactly one line');
  return { text, obj: JSON.parse(text) };
}

describe('jsonl', () => {
  test('writes the fields in the documented order', () => {
    const { text, obj } = line(jsonl(), rec({ headers: [[Buffer.from('h'), Buffer.from('v')]] }));
    assert.deepEqual(Object.keys(obj), [
      'topic',
      'partition',
      'offset',
      'timestamp',
      'key',
      'headers',
      'value',
    ]);
    assert.equal(
      text,
      '{"topic":"orders","partition":3,"offset":42,"timestamp":1764057600000,"key":"k1","headers":[{"key":"h","value":"v"}],"value":{"a":1}}\n',
    );
  });

  test('offsets beyond 2^53 keep every digit', () => {
    const { text } = line(jsonl(), rec({ offset: 9_223_372_036_854_775_806n }));
    assert.match(text, /"offset":9223372036854775806,/);
  });

  test('a JSON value is embedded with its original text, so big integers keep their digits', () => {
    const { text, obj } = line(
      jsonl(),
      rec({ value: Buffer.from('{"id": 12345678901234567890, "f": 1.50}') }),
    );
    assert.ok(text.includes('"value":{"id": 12345678901234567890, "f": 1.50}}'));
    assert.equal(typeof obj.value, 'object');
  });

  test('multi-line JSON stays on one line (CR and LF become spaces)', () => {
    const value = Buffer.from('{\r\n  "a": "x\\ny",\n  "b": [1,\n2]\n}\n');
    const { obj } = line(jsonl(), rec({ value }));
    assert.deepEqual(obj.value, { a: 'x\ny', b: [1, 2] });
  });

  test('JSON scalars and arrays are embedded', () => {
    assert.equal(line(jsonl(), rec({ value: Buffer.from('17') })).obj.value, 17);
    assert.equal(line(jsonl(), rec({ value: Buffer.from('true') })).obj.value, true);
    assert.deepEqual(line(jsonl(), rec({ value: Buffer.from('[1,"a"]') })).obj.value, [1, 'a']);
  });

  test('the literal text null is a string, so that null always means a tombstone', () => {
    const enc = jsonl();
    assert.equal(line(enc, rec({ value: Buffer.from('null') })).obj.value, 'null');
    assert.equal(line(enc, rec({ value: Buffer.from(' null\n') })).obj.value, ' null\n');
    assert.equal(enc.tombstones, 0);
  });

  test('a tombstone has value null and is counted', () => {
    const enc = jsonl();
    const { obj } = line(enc, rec({ value: null }));
    assert.equal(obj.value, null);
    assert.equal(enc.tombstones, 1);
  });

  test('UTF-8 text that is not JSON is a string', () => {
    const enc = jsonl();
    assert.equal(
      line(enc, rec({ value: Buffer.from('héllo wörld "quoted"\n') })).obj.value,
      'héllo wörld "quoted"\n',
    );
    assert.equal(line(enc, rec({ value: Buffer.from('{"a":') })).obj.value, '{"a":');
    assert.equal(
      line(enc, rec({ value: Buffer.alloc(0) })).obj.value,
      '',
      'an empty value is not a tombstone',
    );
    assert.equal(enc.tombstones, 0);
    assert.equal(enc.binaryValues, 0);
  });

  test('a leading byte order mark is kept', () => {
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    assert.equal(line(jsonl(), rec({ value })).obj.value, '\ufeff{"a":1}');
  });

  test('binary values are base64 with valueEncoding, and counted', () => {
    const enc = jsonl();
    const value = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const { obj } = line(enc, rec({ value }));
    assert.equal(obj.value, value.toString('base64'));
    assert.equal(obj.valueEncoding, 'base64');
    assert.equal(enc.binaryValues, 1);
    // Invalid UTF-8 that looks like text (an overlong encoding) is binary too.
    assert.equal(
      line(enc, rec({ value: Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]) })).obj.valueEncoding,
      'base64',
    );
    assert.equal(enc.binaryValues, 2);
  });

  test('keys: UTF-8 string, null, or base64 with keyEncoding', () => {
    assert.equal(line(jsonl(), rec({ key: Buffer.from('ключ') })).obj.key, 'ключ');
    const nul = line(jsonl(), rec({ key: null })).obj;
    assert.equal(nul.key, null);
    assert.equal('keyEncoding' in nul, false);
    const bin = line(jsonl(), rec({ key: Buffer.from([0x00, 0xff]) })).obj;
    assert.equal(bin.key, 'AP8=');
    assert.equal(bin.keyEncoding, 'base64');
  });

  test('headers keep their order and repeated keys; binary header values are base64', () => {
    const headers: Array<[Buffer, Buffer | null]> = [
      [Buffer.from('trace'), Buffer.from('a')],
      [Buffer.from('bin'), Buffer.from([0xff, 0x00])],
      [Buffer.from('trace'), Buffer.from('b')],
      [Buffer.from('empty'), null],
    ];
    const { obj } = line(jsonl(), rec({ headers }));
    assert.deepEqual(obj.headers, [
      { key: 'trace', value: 'a' },
      { key: 'bin', value: '/wA=', valueEncoding: 'base64' },
      { key: 'trace', value: 'b' },
      { key: 'empty', value: null },
    ]);
  });

  test('strings are escaped (quotes, control characters, U+2028)', () => {
    const value = Buffer.from('a"b\\c\u0001\u2028');
    assert.equal(line(jsonl(), rec({ value, key: Buffer.from('"k"') })).obj.value, 'a"b\\c\u0001\u2028');
  });

  test('lastJson is the parsed JSON value, undefined otherwise', () => {
    const enc = jsonl();
    enc.encode(rec({ value: Buffer.from('{"t":5}') }));
    assert.deepEqual(enc.lastJson, { t: 5 });
    enc.encode(rec({ value: Buffer.from('plain') }));
    assert.equal(enc.lastJson, undefined);
    enc.encode(rec({ value: null }));
    assert.equal(enc.lastJson, undefined);
  });
});

describe('raw', () => {
  test('each value then a newline; a tombstone is an empty line', () => {
    const enc = new RecordEncoder({ format: 'raw', topic: 't', partition: 0 });
    const parts = [
      enc.encode(rec({ value: Buffer.from('one') })),
      enc.encode(rec({ value: null })),
      enc.encode(rec({ value: Buffer.from([0xff, 0x00]) })),
    ];
    assert.deepEqual(
      Buffer.concat(parts as Buffer[]),
      Buffer.from([0x6f, 0x6e, 0x65, 0x0a, 0x0a, 0xff, 0x00, 0x0a]),
    );
    assert.equal(enc.tombstones, 1);
    assert.equal(enc.binaryValues, 0, 'raw never base64-encodes');
  });

  test('parses values only when asked (event-time buckets)', () => {
    const plain = new RecordEncoder({ format: 'raw', topic: 't', partition: 0 });
    plain.encode(rec({ value: Buffer.from('{"t":1}') }));
    assert.equal(plain.lastJson, undefined);
    const parsing = new RecordEncoder({ format: 'raw', topic: 't', partition: 0, parseValues: true });
    parsing.encode(rec({ value: Buffer.from('{"t":1}') }));
    assert.deepEqual(parsing.lastJson, { t: 1 });
  });
});

test('parseJsonText', () => {
  assert.deepEqual(parseJsonText(' {"a":[1]} '), { a: [1] });
  assert.equal(parseJsonText('null'), undefined);
  assert.equal(parseJsonText('hello'), undefined);
  assert.equal(parseJsonText(''), undefined);
  assert.equal(parseJsonText('"s"'), 's');
  assert.equal(parseJsonText('-0.5e3'), -500);
});

describe('encodeInto (the worker path) writes the bytes of encode', () => {
  const values = [
    '{"a":1}',
    '{\r\n "a": "x\\ny",\n "b": [1,\n2]\n}\n',
    'null',
    ' null\n',
    '17',
    '"s"',
    'true',
    'héllo "world"\n',
    '',
    '\ufeff{"a":1}',
    'a"b\\c\u0001\u001f\u2028\u007f\b\f\t',
    '{"a":01}',
    '1.',
    '-',
    'ключ {"ü":"ö"}',
    '{"e":"\\ud800"}',
    '1e999',
    '[[[[]]]]',
  ].map((v) => Buffer.from(v));
  const binary = [
    Buffer.from([0xff, 0xfe, 0x00]),
    Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]),
    Buffer.from([0xed, 0xa0, 0x80]),
  ];
  const records: EncodableRecord[] = [];
  for (let i = 0; i < 400; i++) {
    records.push(
      rec({
        offset: BigInt(i) + (i % 2 === 0 ? 0n : 2n ** 62n),
        timestamp: BigInt(1_764_057_600_000 + i) * (i % 17 === 0 ? -1n : 1n),
        key:
          i % 3 === 0 ? null : i % 7 === 0 ? Buffer.from([0, 0xff, i & 255]) : Buffer.from(`k"${i}\n\u0002ö`),
        value:
          i % 11 === 0
            ? null
            : i % 13 === 0
              ? (binary[i % 3] as Buffer)
              : (values[i % values.length] as Buffer),
        headers:
          i % 5 === 0
            ? [
                [Buffer.from('trace'), Buffer.from('a"\t')],
                [Buffer.from([0xff]), null],
                [Buffer.from('x'), Buffer.from([0x80])],
              ]
            : [],
      }),
    );
  }
  for (const format of ['jsonl', 'raw'] as const) {
    test(format, () => {
      const one = new RecordEncoder({ format, topic: 'or"ders', partition: 3 });
      const into = new RecordEncoder({ format, topic: 'or"ders', partition: 3 });
      const out = new ChunkBuilder(64);
      const expected: Buffer[] = [];
      for (const r of records) {
        const line = one.encode(r);
        expected.push(typeof line === 'string' ? Buffer.from(line) : line);
        into.encodeInto(r, out);
      }
      assert.deepEqual(Buffer.concat(out.take(true)), Buffer.concat(expected));
      assert.equal(into.tombstones, one.tombstones);
      assert.equal(into.binaryValues, one.binaryValues);
    });
  }

  test('every line reads back by the shared jsonl grammar: its topic, partition and exact offset', () => {
    const enc = new RecordEncoder({ format: 'jsonl', topic: 'web.logs-1_x', partition: 2_147_483_647 });
    const out = new ChunkBuilder(64);
    for (const r of records) enc.encodeInto(r, out);
    const lines = Buffer.concat(out.take(true)).toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'the object ends with a newline');
    assert.equal(lines.length, records.length, 'one line per record');
    lines.forEach((line, i) => {
      const want = { topic: 'web.logs-1_x', partition: 2_147_483_647, offset: records[i]!.offset };
      assert.deepEqual(parseJsonlLineHead(line), want);
      const obj = JSON.parse(line) as { topic: string; partition: number };
      assert.deepEqual([obj.topic, obj.partition], [want.topic, want.partition]);
      assert.deepEqual(parseJsonlLineHead(enc.encode(records[i]!) as string), want);
    });
    assert.equal(parseJsonlLineHead('{"partition":3,"topic":"t","offset":1,'), null);
  });

  test('parseValue gives what encode leaves in lastJson', () => {
    const a = jsonl();
    const b = jsonl();
    for (const r of records) {
      a.encode(r);
      assert.deepEqual(b.parseValue(r), a.lastJson);
    }
  });
});
