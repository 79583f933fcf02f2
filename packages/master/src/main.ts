/**
 * `sluice-master`: reads the settings once, starts the master, and stops it on SIGTERM or
 * SIGINT (the election node goes at once, so a standby takes over without waiting for the
 * session timeout). An unknown `SLUICE_*` name is a warning, never a reason to stop.
 * Exit codes: 0 stopped, 1 failed, 2 bad settings.
 */
import { flushCompileCache } from 'node:module';
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
  loadMasterConfig,
  securityWarnings,
  unknownSettingWarnings,
  ValidationError,
} = await import('@sluice/shared');
const { startMaster } = await import('./master.ts');

async function main(): Promise<void> {
  // Before the settings are checked, so a misspelled name is pointed out even when they fail.
  for (const w of unknownSettingWarnings()) process.stderr.write(`sluice-master: warning: ${w}\n`);
  let config: ReturnType<typeof loadMasterConfig>;
  try {
    config = loadMasterConfig();
  } catch (err) {
    if (err instanceof ValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger('sluice-master', config.logLevel, { master: config.id });
  for (const w of securityWarnings(config)) log.warn(w);
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });

  let master: Awaited<ReturnType<typeof startMaster>>;
  try {
    const closed = await closeOpenZookeeperNodes(config);
    if (closed.length > 0) log.warn({ nodes: closed.length }, closedNodesMessage(closed));
    master = await startMaster(config, { log });
    // Written now that start-up has loaded its modules, not only at a clean exit (a killed pod
    // never gets one).
    flushCompileCache();
  } catch (err) {
    log.fatal({ err, code: isSluiceError(err) ? err.code : undefined }, 'master failed to start');
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      log.error('stop took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    master.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
