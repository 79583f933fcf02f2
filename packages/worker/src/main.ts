/**
 * The `sluice-worker` program: read the configuration (exit 2 when it is invalid), start the
 * worker, and stop it cleanly on SIGTERM or SIGINT (exit 0). A second signal exits at once.
 * An unknown `SLUICE_*` name is a warning printed first, never a reason to stop.
 */
import { flushCompileCache } from 'node:module';
import type { WorkerConfig } from '@sluice/shared';
import { startCompileCache } from '@sluice/shared/compile-cache';

// Node's compile cache (in the OS temp dir, or NODE_COMPILE_CACHE) saves compiling the bundle's
// files again at the next start; an image's cache made at its build (compile-cache/ beside the
// bundle) seeds it. It must be on before they load: hence the imports below are dynamic, not
// static (those would be evaluated first). Where the cache cannot be written, Node goes on
// without it.
startCompileCache(new URL('./compile-cache/', import.meta.url));
const {
  closedNodesMessage,
  closeOpenZookeeperNodes,
  createLogger,
  isSluiceError,
  loadWorkerConfig,
  securityWarnings,
  unknownSettingWarnings,
  ValidationError,
} = await import('@sluice/shared');
const { startWorker } = await import('./start-worker.ts');

// Before the settings are checked, so a misspelled name is pointed out even when they fail.
for (const w of unknownSettingWarnings()) process.stderr.write(`sluice-worker: warning: ${w}\n`);
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
for (const w of securityWarnings(config)) log.warn(w);

try {
  const closed = await closeOpenZookeeperNodes(config);
  if (closed.length > 0) log.warn({ nodes: closed.length }, closedNodesMessage(closed));
  const worker = await startWorker(config, { logger: log });
  // Written now that start-up has loaded its modules, not only at a clean exit (a killed pod
  // never gets one).
  flushCompileCache();
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
