/**
 * The API's JSON body parser and the words of its refusals. Fastify's own parser refuses a
 * body with a `__proto__` key (or `constructor.prototype`) as "not valid JSON", which it is:
 * the caller then looks for a syntax error that is not there. This parser says what is
 * refused and why, and where; a body that really is not JSON says so with the position. A
 * body over the limit (Fastify refuses it before any parser) gets its words from
 * {@link tooLargeMessage}.
 */
import { type Problem, ValidationError } from '@sluice/shared';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from './common-schemas.ts';

/** Largest request body accepted; a topic registration is well under 2 KiB. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Keys that could change an object's prototype once the body is merged into another object. */
function prototypeProblems(value: unknown, path: string, out: Problem[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      prototypeProblems(v, `${path}[${i}]`, out);
    });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const at = path || 'body';
  for (const [key, v] of Object.entries(value)) {
    if (key === '__proto__') {
      out.push({
        path: at,
        message: 'the key __proto__ is not accepted (it could change object prototypes); remove it',
      });
    } else if (key === 'constructor' && v !== null && typeof v === 'object' && 'prototype' in v) {
      out.push({
        path: at,
        message:
          'the key constructor with a prototype inside is not accepted (it could change object prototypes); remove it',
      });
    }
    prototypeProblems(v, path ? `${path}.${key}` : key, out);
  }
}

/**
 * Parses a JSON request body, refusing prototype keys with {@link ValidationError}s that name
 * them (every one at once) and a syntax error with its position.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw new ValidationError([
      { path: 'body', message: 'is empty; send a JSON object with Content-Type: application/json' },
    ]);
  }
  let value: unknown;
  try {
    // JSON.parse makes `__proto__` an own property (it never sets the prototype): safe to walk.
    value = JSON.parse(text);
  } catch (err) {
    // The position only: the engine's message may quote the body.
    const at = /position (\d+)/.exec(String((err as Error).message))?.[1];
    throw new ValidationError([
      {
        path: 'body',
        message: `is not valid JSON${at === undefined ? '' : ` (error at character ${Number(at) + 1})`}; send a JSON object with Content-Type: application/json`,
      },
    ]);
  }
  const problems: Problem[] = [];
  prototypeProblems(value, '', problems);
  if (problems.length > 0) throw new ValidationError(problems);
  return value;
}

/** The words of a 413: which request, and the limit in bytes. */
export function tooLargeMessage(method: string, url: string): string {
  return `body: the body of ${method} ${url.split('?')[0]} is larger than the limit of ${BODY_LIMIT_BYTES} bytes; send a smaller body (a topic registration is well under 2 KiB)`;
}

/**
 * Documents the 413 on every route a body can be sent to (any method but GET, HEAD and
 * OPTIONS: Fastify applies the limit before routing to a handler), so that the OpenAPI document
 * lists it and the serializer knows its shape. An `onRoute` hook rather than a line per route:
 * a route added later gets it too. Added before the docs plugin, whose own hook then sees it.
 */
export function documentBodyLimit(app: FastifyInstance): void {
  const tooLarge = errorResponses(413)[413];
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (methods.every((m) => m === 'GET' || m === 'HEAD' || m === 'OPTIONS')) return;
    const response = route.schema?.response as Record<number, unknown> | undefined;
    if (response && response[413] === undefined) response[413] = tooLarge;
  });
}
