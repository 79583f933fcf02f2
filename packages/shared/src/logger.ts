/**
 * The root logger (pino). Made once in each program's main; components take child loggers
 * binding `topic`, `partition`, `range`, `worker`. Secrets are redacted by path (the
 * config's secret settings come from the settings table of config.ts).
 */
import { type Logger, pino } from 'pino';
import { SECRET_CONFIG_PATHS } from './config.ts';

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
        // the settings marked secret in the settings table, wherever a config is logged
        ...SECRET_CONFIG_PATHS.map((p) => `config.${p}`),
      ],
      censor: '[redacted]',
    },
  });
}
