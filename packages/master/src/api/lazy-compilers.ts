/**
 * Fastify compiles every route's request validators (ajv) and response serializers
 * (fast-json-stringify) when the server gets ready: about 0.4 CPU s of the master's start for
 * its ~60 routes, most of which a given master never serves (a standby answers probes only).
 * These factories hand Fastify its own default compilers, with the same options, wrapped so
 * that each schema is compiled at its route's first use instead: the same functions, later.
 *
 * A schema that cannot compile would then fail its first request rather than the start:
 * `compileRouteSchemas` compiles all that are still pending, which the API's tests call so
 * that such a schema still fails the build.
 */
import ajvCompiler from '@fastify/ajv-compiler';
import serializerCompiler from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
/** An Ajv validate function as Fastify calls it. */
type Validate = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };

export interface LazyCompilers {
  compilersFactory: CompilersFactory;
  /** Compiles every schema not compiled yet; returns how many were. Throws what a compiler throws. */
  compileAll(): number;
}

export function lazyCompilers(): LazyCompilers {
  const pending = new Set<() => unknown>();
  /** `build` once, at the first call of the answer, or at compileAll. */
  const later = <F>(build: () => F): (() => F) => {
    let built: F | undefined;
    const get = (): F => {
      if (built === undefined) {
        built = build();
        pending.delete(get);
      }
      return built;
    };
    pending.add(get);
    return get;
  };
  const validators = ajvCompiler();
  const serializers = serializerCompiler();
  const buildValidator: BuildValidator = (externalSchemas: unknown, options: unknown) => {
    // The Ajv instance too (with every shared schema added): ~0.2 CPU s on its own.
    let compile: ReturnType<typeof validators> | undefined;
    return (route: unknown) => {
      const real = later(() => {
        compile ??= validators(externalSchemas as never, options as never);
        return compile(route as never) as unknown as Validate;
      });
      const lazy: Validate = (data, ctx) => real()(data, ctx);
      // Fastify reads `errors` after a failed call, and passes the parent (for Ajv's root
      // mutations) when the function has a `schemaEnv`: both answered by the real function.
      Object.defineProperty(lazy, 'errors', { get: () => real().errors });
      Object.defineProperty(lazy, 'schemaEnv', { get: () => real().schemaEnv });
      return lazy as never;
    };
  };
  const buildSerializer: BuildSerializer = (externalSchemas: unknown, options: unknown) => {
    const compile = serializers(externalSchemas, options as never);
    return (route: unknown) => {
      const real = later(() => compile(route as never));
      return (data: unknown) => real()(data);
    };
  };
  return {
    compilersFactory: { buildValidator, buildSerializer },
    compileAll() {
      const all = [...pending];
      for (const compile of all) compile();
      return all.length;
    },
  };
}
