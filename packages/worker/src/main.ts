/**
 * The `sluice-worker` program: read the configuration (exit 2 when it is invalid), start the
 * worker, and stop it cleanly on SIGTERM or SIGINT (exit 0). A second signal exits at once.
 */
import {
  createLogger,
  isSluiceError,
  loadWorkerConfig,
  ValidationError,
  type WorkerConfig,
} from '@sluice/shared';
import { startWorker } from './start-worker.ts';

let config: Readonly<WorkerConfig>;
try {
  config = loadWorkerConfig();
} catch (err) {
  if (err instanceof ValidationError || isSluiceError(err)) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger('sluice-worker', config.logLevel, { worker: config.id });

try {
  const worker = await startWorker(config, { logger: log });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'signal received');
    worker.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
} catch (err) {
  log.fatal({ err }, 'worker could not start');
  process.exit(1);
}
