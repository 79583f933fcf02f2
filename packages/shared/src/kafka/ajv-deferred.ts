/**
 * Ajv, compiled when a validator is first called instead of when it is made. @platformatic/kafka
 * builds its Ajv instance and compiles its option schemas when its modules load, and calls
 * the validators only for clients made with `strict: true`, which Sluice never sets (options.ts).
 * Loading Ajv and compiling those schemas (with Ajv's draft 2020-12 meta-schema, to check them)
 * cost 0.25-0.35 CPU s of every master's and worker's start (bench/README.md item 11), and generated
 * code Node's compile cache cannot keep (issue 14). In the programs' bundles (scripts/bundle.ts, plugin
 * `sluice-ajv-deferred`), the library's `ajv/dist/2020.js` is this class over the real one:
 * the same keywords, options and schemas, the same answers and errors, once anything asks.
 */

/** The part of Ajv's API the library uses (utils.js, clients/base/base.js). */
export interface AjvLike {
  addKeyword(definition: unknown): unknown;
  compile(schema: unknown): ValidateLike;
  errorsText(errors?: unknown, options?: unknown): string;
}

export interface ValidateLike {
  (data: unknown, context?: unknown): boolean;
  errors?: unknown;
  /** The schema it validates against, as Ajv's validate functions carry it. */
  schema?: unknown;
}

type AjvConstructor = new (options?: Record<string, unknown>) => AjvLike;

/**
 * A class with Ajv's constructor and the methods above; `load` returns the real class and is
 * called once, at the first validation or error text. Keywords added before then are added to
 * the real instance, in order, when it is made.
 */
export function deferAjv(load: () => AjvConstructor): AjvConstructor {
  return class DeferredAjv implements AjvLike {
    readonly #options: Record<string, unknown> | undefined;
    readonly #keywords: unknown[] = [];
    #real: AjvLike | undefined;

    constructor(options?: Record<string, unknown>) {
      this.#options = options;
    }

    #ajv(): AjvLike {
      if (this.#real === undefined) {
        const Real = load();
        const real = new Real(this.#options);
        for (const k of this.#keywords) real.addKeyword(k);
        this.#real = real;
      }
      return this.#real;
    }

    addKeyword(definition: unknown): this {
      if (this.#real === undefined) this.#keywords.push(definition);
      else this.#real.addKeyword(definition);
      return this;
    }

    compile(schema: unknown): ValidateLike {
      let compiled: ValidateLike | undefined;
      const validate: ValidateLike = (data, context) => {
        compiled ??= this.#ajv().compile(schema);
        const valid = compiled(data, context);
        validate.errors = compiled.errors;
        return valid;
      };
      validate.errors = null;
      validate.schema = schema;
      return validate;
    }

    errorsText(errors?: unknown, options?: unknown): string {
      return this.#ajv().errorsText(errors, options);
    }
  };
}
