/**
 * The root logger (pino). Made once in each program's main; components take child loggers
 * binding `topic`, `partition`, `range`, `worker`. Secrets are redacted by path.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(name: string, level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        '*.password',
        '*.secretAccessKey',
        '*.token',
        '*.authorization',
        'req.headers.authorization',
        'config.apiTokens',
        'config.kafkaSasl',
        'config.zookeeperDigest',
      ],
      censor: '[redacted]',
    },
  });
}
