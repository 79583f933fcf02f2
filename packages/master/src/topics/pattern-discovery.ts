/**
 * The leader's discovery of topics for the topic patterns (issue 16): every
 * SLUICE_PATTERN_DISCOVERY_INTERVAL_MS it lists Kafka's topics, finds those a pattern takes
 * that are not registered (topic-pattern.ts decides: whole-name match, exclusions, internal
 * topics, the topics an operator unregistered, the first-registered pattern winning) and
 * registers each through the same path as POST /api/v1/topics (topic-writes.ts), with
 * the pattern's settings and the pattern's name on the record.
 *
 * Only the leader runs it, so two masters never race to register one topic (were they to,
 * the second would meet TOPIC_EXISTS, which is harmless). A registration that fails (a
 * destination overlap, S3 down, a consumer group still active) is logged, counted, reported on
 * the pattern, and tried again next pass.
 */
import {
  claimTopics,
  ErrorCodes,
  errorText,
  isSluiceError,
  type Logger,
  TOPICS_PATH,
  TopicPattern,
} from '@sluice/shared';
import type { MasterMetrics } from '../status/metrics.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { listPatterns, readPattern } from '../stores/pattern-store.ts';
import { type RegistrationDeps, registerTopic } from './topic-writes.ts';

/** What the last pass did for one pattern (shown by GET /api/v1/patterns). */
export interface PatternReport {
  at: string;
  registered: string[];
  refused: Array<{ topic: string; error: string }>;
  contested: Array<{ topic: string; takenBy: string }>;
}

/** Reports by pattern name: written by the leader's discovery, read by the API. */
export type PatternReports = Map<string, PatternReport>;

export interface PatternDiscoveryOptions {
  deps: RegistrationDeps;
  store: OutputStore;
  log: Logger;
  metrics: MasterMetrics;
  reports: PatternReports;
  intervalMs: number;
}

export class PatternDiscovery {
  readonly #o: PatternDiscoveryOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(opts: PatternDiscoveryOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    this.#o.reports.clear();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.pass()
        .catch((err) => this.#o.log.warn({ err }, 'pattern discovery failed'))
        .finally(() => {
          this.#running = null;
          this.#schedule(this.#o.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }

  /** One pass: register every unregistered topic a pattern takes. */
  async pass(): Promise<void> {
    const { deps, log, metrics, reports } = this.#o;
    const zk = deps.zk();
    const patterns = (await listPatterns(zk)).map((r) => new TopicPattern(r));
    if (patterns.length === 0) {
      reports.clear();
      return;
    }
    const names = (await deps.kafka.topicNames?.()) ?? [];
    const registered = new Set(await zk.children(TOPICS_PATH));
    const at = new Date().toISOString();
    const fresh = new Map<string, PatternReport>(
      patterns.map((p) => [p.rule.name, { at, registered: [], refused: [], contested: [] }]),
    );
    for (const claim of claimTopics(patterns, names)) {
      for (const other of claim.alsoMatchedBy)
        fresh.get(other)!.contested.push({ topic: claim.topic, takenBy: claim.pattern });
      if (registered.has(claim.topic) || this.#stopped) continue;
      const report = fresh.get(claim.pattern)!;
      // Read again just before registering: deleted or changed since the pass began, the
      // pattern as it is now decides (an exclusion added a moment ago is respected).
      const now = await readPattern(zk, claim.pattern);
      if (!now || !new TopicPattern(now.record).takes(claim.topic)) continue;
      try {
        const body = { ...now.record.settings, topic: claim.topic };
        await registerTopic({ deps, store: () => this.#o.store, log }, body, claim.pattern);
        report.registered.push(claim.topic);
        metrics.patternRegistrations.inc({ pattern: claim.pattern, result: 'registered' });
      } catch (err) {
        // Registered by name (or by another master) since the listing: nothing to do.
        if (isSluiceError(err, ErrorCodes.TOPIC_EXISTS)) continue;
        report.refused.push({ topic: claim.topic, error: errorText(err) });
        metrics.patternRegistrations.inc({ pattern: claim.pattern, result: 'refused' });
        log.warn({ topic: claim.topic, pattern: claim.pattern, err }, 'pattern registration refused');
      }
    }
    reports.clear();
    for (const [name, report] of fresh) reports.set(name, report);
  }
}
