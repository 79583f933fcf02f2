/**
 * The topics-file mode (leader only): the master converges the registered topics to the file
 * SLUICE_TOPICS_FILE names, typically a mounted ConfigMap, whenever its content changes.
 *
 *  - A ConfigMap changes by swapping a symlink (`..data`) in its folder, which file watches see
 *    unreliably: the file is read every SLUICE_TOPICS_FILE_INTERVAL_MS and its SHA-256 compared
 *    with the last content read. A watch on the folder only makes that read come sooner.
 *  - New content is parsed whole first: an invalid file changes nothing and is reported naming
 *    the line. A valid one is applied topic by topic through the same planner and checks as
 *    `PUT /api/v1/topics/{topic}` (validation, destination probe, lifecycle rules): a refused
 *    topic is reported with the API's reason and tried again every 30 s (or interval), the rest
 *    applies.
 *  - Registered topics the file does not name are deleted (as `DELETE` does) only when the file
 *    says `prune: true`; otherwise they are kept and reported as `kept`.
 *  - API writes keep working while a file is in force; the next change of the file wins. So the
 *    report (what was done, refused, and the hash applied) is kept in ZooKeeper: every master's
 *    status shows it, and a new leader does not re-apply content already applied.
 *
 * The file format and the per-topic planner belong to the declarative API (topics-file.ts,
 * topic-upsert.ts); this loop reaches them through {@link TopicsConverger}, so its rules are
 * tested without ZooKeeper, Kafka or S3.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ErrorCodes, errorText, isSluiceError, type Logger } from '@sluice/shared';
import type { MasterMetrics } from '../status/metrics.ts';
import type { TopicsFileAction, TopicsFileRefusal, TopicsFileReport } from '../status/topics-file-status.ts';

/** One topic of a parsed file: its name and the line it starts on. */
export interface TopicsFileTopic {
  topic: string;
  line: number | null;
}

export interface ParsedTopicsFile<T extends TopicsFileTopic> {
  prune: boolean;
  topics: T[];
}

/** What one topic's apply did (the PUT route's answer, in short). */
export interface TopicApplied {
  result: 'created' | 'changed' | 'unchanged';
  /** The fields changed. */
  changes: string[];
}

/**
 * A topic's change refused by the API: its error code (`SLUICE_ERR_…`, or Fastify's own for a
 * framework refusal) and message, and the line of the file the refused field is on.
 */
export class TopicRefused extends Error {
  readonly code: string;
  readonly line: number | null;
  constructor(code: string, message: string, line: number | null) {
    super(message);
    this.name = 'TopicRefused';
    this.code = code;
    this.line = line;
  }
}

/** The declarative API as the loop uses it. */
export interface TopicsConverger<T extends TopicsFileTopic> {
  /** The file's topics, or a thrown error naming the file and the line. */
  parse(text: string, fileName: string): ParsedTopicsFile<T>;
  /** The line an error of `parse` names, when it names one. */
  errorLine(err: unknown): number | null;
  /** Names of the registered topics not already being deleted. */
  registered(): Promise<string[]>;
  /** Creates or changes one topic to exactly what the file says; throws the API's refusal ({@link TopicRefused}). */
  apply(topic: T): Promise<TopicApplied>;
  /** Unregisters a topic the way `DELETE /api/v1/topics/{topic}` does. */
  remove(topic: string): Promise<void>;
}

export interface TopicsFileLoopOptions<T extends TopicsFileTopic> {
  /** SLUICE_TOPICS_FILE */
  path: string;
  /** SLUICE_TOPICS_FILE_INTERVAL_MS */
  intervalMs: number;
  /** This master's id, named in the report. */
  master: string;
  converger: TopicsConverger<T>;
  /** Where the report is kept (status/topics-file-status.ts). */
  reports: { read(): Promise<TopicsFileReport | null>; write(report: TopicsFileReport): Promise<void> };
  log: Logger;
  metrics?: MasterMetrics;
  /** Reads the file; default: `fs.readFile` as UTF-8. */
  readText?: (path: string) => Promise<string>;
}

/** How soon after a change in the file's folder it is read (a ConfigMap update is several renames). */
const WATCH_DEBOUNCE_MS = 250;

/**
 * How long refused topics wait before they are tried again: each try is a PUT that counts
 * against SLUICE_RATE_LIMIT_PER_MINUTE, so at most every 30 s (or the interval, when longer).
 */
export const retryRefusedMs = (intervalMs: number) => Math.max(intervalMs, 30_000);

/** Errors that end the leader's term: nothing to report, the next leader converges. */
const endsTerm = (err: unknown) =>
  isSluiceError(err, ErrorCodes.NOT_LEADER) || isSluiceError(err, ErrorCodes.ZK_SESSION_LOST);

export class TopicsFileLoop<T extends TopicsFileTopic> {
  readonly #o: TopicsFileLoopOptions<T>;
  readonly #log: Logger;
  /** The last report, as stored; undefined until read from ZooKeeper. */
  #report: TopicsFileReport | null | undefined;
  /** The last report could not be stored: store it on the next pass. */
  #unsaved = false;
  #timer: NodeJS.Timeout | null = null;
  #watcher: FSWatcher | null = null;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** When topics were last applied (ms): refused ones are tried again {@link retryRefusedMs} later. */
  #triedAt = 0;

  constructor(opts: TopicsFileLoopOptions<T>) {
    this.#o = opts;
    this.#log = opts.log.child({ topicsFile: opts.path });
  }

  /** Reads the file now, then every interval (and soon after a change in its folder). */
  start(): void {
    this.#schedule(0);
    try {
      const name = basename(this.#o.path);
      this.#watcher = watch(dirname(this.#o.path), { persistent: false }, (_event, file) => {
        // A ConfigMap swaps `..data`; a plain file changes under its own name.
        if (!file || file === name || file.startsWith('..')) this.#schedule(WATCH_DEBOUNCE_MS);
      });
      this.#watcher.on('error', () => this.#unwatch());
    } catch {
      // No watch (a folder that does not exist yet, no inotify): polling alone finds changes.
    }
  }

  /** Stops reading; resolves when the pass running (if any) has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#unwatch();
    await this.#running.catch(() => undefined);
  }

  /** One pass (never two at once): what the report says after it. */
  pass(): Promise<TopicsFileReport> {
    const run = this.#running.then(() => this.#pass());
    this.#running = run.catch(() => undefined);
    return run;
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      this.#timer = null;
      try {
        await this.pass();
      } catch (err) {
        if (!endsTerm(err) && !this.#stopped) this.#log.warn({ err }, 'topics file pass failed');
      }
      if (!this.#timer) this.#schedule(this.#o.intervalMs);
    }, ms);
  }

  async #pass(): Promise<TopicsFileReport> {
    if (this.#report === undefined) {
      const stored = await this.#o.reports.read();
      this.#report = stored && stored.path === this.#o.path ? stored : null;
    }
    const prev = this.#report;
    let text: string;
    try {
      text = await (this.#o.readText ?? ((p) => readFile(p, 'utf8')))(this.#o.path);
    } catch (err) {
      if (prev?.result === 'unreadable') return this.#save(prev);
      const error = `cannot read SLUICE_TOPICS_FILE ${this.#o.path}: ${errorText(err)}; mount the file there or correct the setting (nothing was changed)`;
      this.#log.error({ err: errorText(err) }, 'topics file unreadable; nothing changed');
      this.#o.metrics?.topicsFileApplies.inc({ result: 'unreadable' });
      return this.#save({ ...this.#base(prev, null), result: 'unreadable', error });
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (prev && prev.hash === hash && prev.result !== 'unreadable') {
      if (prev.result !== 'partly-refused') return this.#save(prev);
      if (Date.now() - this.#triedAt < retryRefusedMs(this.#o.intervalMs)) return this.#save(prev);
      // Same content: only what was refused is tried again (a topic created in Kafka since, a
      // bucket made writable); what was applied stays, API writes since then included.
      const next = await this.#converge(text, hash, prev);
      const same =
        JSON.stringify([next.actions, next.refusals]) === JSON.stringify([prev.actions, prev.refusals]);
      return this.#save(same ? prev : next);
    }
    return this.#save(await this.#converge(text, hash, null));
  }

  /** Test hook: the next pass retries refused topics whatever the time since the last try. */
  retryNow(): void {
    this.#triedAt = 0;
  }

  /** A report's fields that carry over from the previous one. */
  #base(prev: TopicsFileReport | null, hash: string | null): TopicsFileReport {
    return {
      path: this.#o.path,
      master: this.#o.master,
      readAt: new Date().toISOString(),
      hash,
      appliedHash: prev?.appliedHash ?? null,
      appliedAt: prev?.appliedAt ?? null,
      result: 'applied',
      error: null,
      line: null,
      prune: prev?.prune ?? false,
      actions: [],
      refusals: [],
    };
  }

  /**
   * Applies the file: every topic when `retry` is null, else only the topics `retry` refused
   * (its other actions are kept).
   */
  async #converge(text: string, hash: string, retry: TopicsFileReport | null): Promise<TopicsFileReport> {
    const { converger } = this.#o;
    let file: ParsedTopicsFile<T>;
    try {
      file = converger.parse(text, this.#o.path);
    } catch (err) {
      const line = converger.errorLine(err);
      this.#log.error({ err: errorText(err), line }, 'topics file invalid; nothing changed');
      this.#o.metrics?.topicsFileApplies.inc({ result: 'invalid' });
      const error = `${errorText(err)} (nothing was changed; the topics stay as last applied)`;
      return { ...this.#base(this.#report ?? null, hash), result: 'invalid', error, line };
    }
    this.#triedAt = Date.now();
    const only = retry ? new Set(retry.refusals.map((r) => r.topic)) : null;
    const refusedBefore = new Map((retry?.refusals ?? []).map((r) => [r.topic, r.message]));
    const actions: TopicsFileAction[] = retry ? retry.actions.filter((a) => !only!.has(a.topic)) : [];
    const refusals: TopicsFileRefusal[] = [];
    const refuse = (
      topic: string,
      action: TopicsFileRefusal['action'],
      line: number | null,
      err: unknown,
    ) => {
      if (endsTerm(err)) throw err;
      const known = err instanceof TopicRefused || isSluiceError(err);
      const code = known ? err.code : ErrorCodes.INTERNAL;
      const message = known ? err.message : errorText(err);
      const at = err instanceof TopicRefused && err.line !== null ? err.line : line;
      refusals.push({ topic, action, code, message, line: at });
      // A refusal tried again and again is logged again only when its reason changes.
      if (refusedBefore.get(topic) !== message)
        this.#log.warn({ topic, action, line: at, code, reason: message }, 'topics file: change refused');
    };
    for (const t of file.topics) {
      if (only && !only.has(t.topic)) continue;
      try {
        const done = await converger.apply(t);
        actions.push({ topic: t.topic, action: done.result, changes: done.changes, line: t.line });
        if (done.result === 'unchanged') continue;
        this.#log.info(
          { topic: t.topic, action: done.result, changes: done.changes, line: t.line },
          'topics file: topic ' + done.result,
        );
      } catch (err) {
        refuse(t.topic, 'apply', t.line, err);
      }
    }
    const named = new Set(file.topics.map((t) => t.topic));
    for (const topic of await converger.registered()) {
      if (named.has(topic) || (only && !only.has(topic))) continue;
      if (!file.prune) {
        if (!retry)
          this.#log.info(
            { topic },
            'topics file: topic not in the file kept (the file does not say prune: true)',
          );
        if (!actions.some((a) => a.topic === topic))
          actions.push({ topic, action: 'kept', changes: [], line: null });
        continue;
      }
      try {
        await converger.remove(topic);
        actions.push({ topic, action: 'deleted', changes: [], line: null });
        this.#log.info({ topic }, 'topics file: topic deleted (prune: true)');
      } catch (err) {
        refuse(topic, 'delete', null, err);
      }
    }
    const result = refusals.length > 0 ? 'partly-refused' : 'applied';
    if (!retry) this.#o.metrics?.topicsFileApplies.inc({ result });
    if (!retry || refusals.length === 0)
      this.#log.info(
        { result, topics: file.topics.length, refused: refusals.length, prune: file.prune },
        retry ? 'topics file: refused changes now applied' : 'topics file applied',
      );
    const now = new Date().toISOString();
    return {
      ...this.#base(retry, hash),
      appliedHash: hash,
      appliedAt: retry?.appliedAt ?? now,
      readAt: retry?.readAt ?? now,
      result,
      prune: file.prune,
      actions: actions.sort((a, b) => a.topic.localeCompare(b.topic)),
      refusals,
    };
  }

  /** Keeps the report and stores it when it changed (or was not stored last time). */
  async #save(report: TopicsFileReport): Promise<TopicsFileReport> {
    const changed = report !== this.#report || this.#unsaved;
    this.#report = report;
    this.#o.metrics?.topicsFileRefusals.set(report.refusals.length);
    if (!changed) return report;
    try {
      await this.#o.reports.write(report);
      this.#unsaved = false;
    } catch (err) {
      if (endsTerm(err)) throw err;
      this.#unsaved = true;
      this.#log.warn({ err }, 'topics file report not stored; trying again next pass');
    }
    return report;
  }
}
