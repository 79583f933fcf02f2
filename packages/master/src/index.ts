/** The master's public surface: its entry point, for the bin and for tests that run masters in-process. */
export { type RunningMaster, type StartMasterOptions, startMaster } from './master.ts';
