/**
 * The start-up refusal of a configuration, for the config tests that check what the refusal
 * says (one helper, so they agree on what counts as a refusal: a SLUICE_ERR_CONFIG error).
 */
import assert from 'node:assert/strict';
import { isSluiceError } from '../src/errors.ts';

/** The start-up message of a refused configuration (and that it is a config error). */
export function refusal(load: () => unknown): string {
  let message = '';
  assert.throws(load, (e: Error) => {
    message = e.message;
    return isSluiceError(e, 'SLUICE_ERR_CONFIG');
  });
  return message;
}
