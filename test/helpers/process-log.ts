/** Reading what a master or worker process logged (pino JSON lines in its log file). */
import { readFileSync } from 'node:fs';
import type { SluiceProcess } from './processes.ts';

export interface LogLine {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** Every JSON line the process logged so far (other output is left out). */
export function logLines(proc: Pick<SluiceProcess, 'logFile'>): LogLine[] {
  const out: LogLine[] = [];
  for (const text of readFileSync(proc.logFile, 'utf8').split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      out.push(JSON.parse(text) as LogLine);
    } catch {
      // a line cut by a kill
    }
  }
  return out;
}

/** Lines with one of the messages, logged at or after `sinceMs`. */
export function logged(proc: Pick<SluiceProcess, 'logFile'>, msgs: string[], sinceMs = 0): LogLine[] {
  return logLines(proc).filter((l) => msgs.includes(l.msg) && Date.parse(l.time) >= sinceMs);
}
