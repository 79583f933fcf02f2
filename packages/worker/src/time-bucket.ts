/**
 * Which time bucket folder a record belongs to. Pure.
 *
 * `kafka-time` buckets by the record's Kafka timestamp. `event-time` reads a dotted field of
 * the JSON value in the topic's declared unit (@sluice/shared's event-time.ts). When the field
 * is missing or does not parse the Kafka timestamp is used and the record is counted as a
 * fallback (the commit record, the status and a metric show the count).
 */
import {
  bucketFolder,
  type EventTimeUnit,
  FOLDER_END_MS,
  FOLDER_MIN_MS,
  fieldAt,
  type PartitionBy,
  parseEventTime,
  type TimeStyle,
} from '@sluice/shared';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Assigns records to bucket folders for one range. Keeps the last bucket so that a run of
 * records in the same hour costs one division, not one `Date`.
 */
export class TimeBucketer {
  readonly #partitionBy: PartitionBy;
  readonly #unitMs: number;
  readonly #path: readonly string[] | null;
  readonly #unit: EventTimeUnit | undefined;
  readonly #style: TimeStyle;
  #lastSlot = Number.NaN;
  #lastFolder = '';
  /** Records whose event-time field was missing or unparseable. */
  fallbacks = 0;
  /** The time (ms) that chose the last record's folder (Parquet's `__sluice_event_time`). */
  lastTimeMs: number | undefined;

  /** `style`: of the time folders, from the topic's key template (key-template.ts). */
  constructor(partitionBy: PartitionBy, style: TimeStyle = 'hive-dt-hr') {
    this.#partitionBy = partitionBy;
    this.#style = style;
    this.#unitMs = partitionBy.kind === 'none' ? 0 : partitionBy.granularity === 'hour' ? HOUR_MS : DAY_MS;
    this.#path = partitionBy.kind === 'event-time' ? partitionBy.field.split('.') : null;
    this.#unit = partitionBy.kind === 'event-time' ? partitionBy.unit : undefined;
  }

  /** Whether {@link folderOf} needs the parsed value (event-time). */
  get needsValue(): boolean {
    return this.#path !== null;
  }

  /**
   * The bucket time (ms) of a record: its event time, or its Kafka timestamp. A Kafka timestamp
   * outside the years 0000-9999 (a producer can set any int64) is clamped to the nearest one,
   * so that one odd record cannot stop its partition.
   */
  timeOf(kafkaTimestampMs: number, parsedValue: unknown): number {
    if (this.#path !== null) {
      const t =
        parsedValue === undefined ? undefined : parseEventTime(fieldAt(parsedValue, this.#path), this.#unit);
      if (t !== undefined) return t;
      this.fallbacks++;
    }
    return Math.min(Math.max(kafkaTimestampMs, FOLDER_MIN_MS), FOLDER_END_MS - 1);
  }

  /** The folder (`dt=…/hr=…/`, another style's, or `''`) of a record. `parsedValue` is its JSON value, if any. */
  folderOf(kafkaTimestampMs: number, parsedValue: unknown): string {
    if (this.#unitMs === 0) {
      this.lastTimeMs = kafkaTimestampMs;
      return '';
    }
    const t = this.timeOf(kafkaTimestampMs, parsedValue);
    this.lastTimeMs = t;
    const slot = Math.floor(t / this.#unitMs);
    if (slot !== this.#lastSlot) {
      this.#lastFolder = bucketFolder(this.#partitionBy, t, this.#style);
      this.#lastSlot = slot;
    }
    return this.#lastFolder;
  }
}
