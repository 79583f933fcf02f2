/**
 * Which topics a topic pattern takes (topic-pattern.ts): whole-name matching, exclusions,
 * internal topics only when written out, the first-created pattern winning, and the
 * expressions refused before they are stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  claimTopics,
  isInternalTopic,
  type PatternRule,
  regexProblem,
  TopicPattern,
  topicPatternProblems,
} from '../src/index.ts';

const rule = (over: Partial<PatternRule> & Pick<PatternRule, 'pattern'>): PatternRule => ({
  name: 'p',
  exclude: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

test('a pattern matches the whole topic name, not a part of it', () => {
  const p = new TopicPattern(rule({ pattern: 'orders\\.(eu|us)\\..*' }));
  assert.equal(p.takes('orders.eu.payments'), true);
  assert.equal(p.takes('orders.us.x'), true);
  assert.equal(p.takes('old.orders.eu.x'), false, 'no match in the middle of a name');
  assert.equal(p.takes('orders.asia.x'), false);
  assert.equal(new TopicPattern(rule({ pattern: 'orders' })).takes('orders-v2'), false, 'no prefix match');
  // An alternation is whole-name on both sides (the pattern is wrapped in a group).
  const alt = new TopicPattern(rule({ pattern: 'a|b' }));
  assert.deepEqual(
    ['a', 'b', 'ab', 'xa'].filter((t) => alt.takes(t)),
    ['a', 'b'],
  );
});

test('an exclusion (whole-name too) keeps a matching topic out, and says so', () => {
  const p = new TopicPattern(rule({ pattern: 'orders\\..*', exclude: ['orders\\.eu\\.test', '.*\\.tmp'] }));
  assert.equal(p.verdict('orders.eu.test'), 'excluded');
  assert.equal(p.verdict('orders.eu.test2'), null, 'exclusions are whole-name as well');
  assert.equal(p.verdict('orders.x.tmp'), 'excluded');
  assert.equal(p.verdict('payments'), undefined, 'no match at all');
});

test('a topic an operator unregistered is not taken again', () => {
  const p = new TopicPattern(rule({ pattern: 'orders\\..*', deletedTopics: ['orders.gone'] }));
  assert.equal(p.verdict('orders.gone'), 'deleted');
  assert.equal(p.takes('orders.kept'), true);
});

test('internal topics are taken only when the pattern writes their full name', () => {
  for (const t of [
    '__consumer_offsets',
    '__transaction_state',
    '_schemas',
    '_confluent-metrics',
    'connect-offsets',
    'connect-configs',
    'connect-status',
  ]) {
    assert.equal(isInternalTopic(t), true, t);
    assert.equal(new TopicPattern(rule({ pattern: '.*' })).verdict(t), 'internal', t);
  }
  assert.equal(isInternalTopic('connect-orders'), false);
  assert.equal(isInternalTopic('orders_'), false);
  assert.equal(
    new TopicPattern(rule({ pattern: '_.*' })).takes('_schemas'),
    false,
    'a wildcard is not a name',
  );
  assert.equal(new TopicPattern(rule({ pattern: '_schemas|orders\\..*' })).takes('_schemas'), true);
  assert.equal(new TopicPattern(rule({ pattern: '__consumer_offsets' })).takes('__consumer_offsets'), true);
  assert.equal(new TopicPattern(rule({ pattern: 'connect\\-offsets' })).takes('connect-offsets'), true);
  assert.equal(new TopicPattern(rule({ pattern: '.*' })).takes('orders'), true);
});

test('a topic two patterns take belongs to the one created first; the other is told', () => {
  const later = new TopicPattern(
    rule({ name: 'all-orders', pattern: 'orders\\..*', createdAt: '2026-02-01T00:00:00.000Z' }),
  );
  const first = new TopicPattern(
    rule({ name: 'eu', pattern: 'orders\\.eu\\..*', createdAt: '2026-01-01T00:00:00.000Z' }),
  );
  const claims = claimTopics([later, first], ['orders.eu.a', 'orders.us.a', 'payments']);
  assert.deepEqual(claims, [
    { topic: 'orders.eu.a', pattern: 'eu', alsoMatchedBy: ['all-orders'] },
    { topic: 'orders.us.a', pattern: 'all-orders', alsoMatchedBy: [] },
  ]);
  // Created at the same instant: by name.
  const twin = new TopicPattern(rule({ name: 'a', pattern: 'orders\\.eu\\..*' }));
  assert.equal(claimTopics([first, twin], ['orders.eu.a'])[0]!.pattern, 'a');
  // An exclusion of the first pattern leaves the topic to the next.
  const firstExcluding = new TopicPattern({ ...first.rule, exclude: ['orders\\.eu\\.a'] });
  assert.equal(claimTopics([later, firstExcluding], ['orders.eu.a'])[0]!.pattern, 'all-orders');
});

test('expressions that do not compile, are too long or nest quantifiers are refused, naming the field', () => {
  assert.match(regexProblem('orders\\.(eu')!, /not a valid JavaScript regular expression/);
  assert.match(regexProblem('')!, /non-empty/);
  assert.match(regexProblem('a'.repeat(501))!, /at most 500 characters/);
  for (const bad of ['(a+)+', '(\\w*x)*', '(a|b+){2,}', '((ab)*c)+'])
    assert.match(regexProblem(bad)!, /must not repeat a group that itself repeats/, bad);
  for (const fine of ['(\\+)+', '([+*])+', '(ab)+', 'orders\\..*', '(eu|us)\\.[a-z]+'])
    assert.equal(regexProblem(fine), null, fine);
  assert.deepEqual(
    topicPatternProblems({ name: 'bad/name', pattern: '[', exclude: ['ok', '(x+)*'] }).map((p) => p.path),
    ['name', 'pattern', 'exclude[1]'],
  );
});
