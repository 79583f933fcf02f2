/** The worker package's public surface: its entry point, nothing else. */
export { type RunningWorker, type StartWorkerOptions, startWorker } from './start-worker.ts';
