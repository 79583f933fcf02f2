/**
 * The programs as esbuild bundles (issue 14, start-up under 1 CPU s): `npm run build` runs this
 * after `tsc -b`, and writes `packages/master/dist/bundle/` and `packages/worker/dist/bundle/`,
 * which the bins run. A start then reads a few files instead of ~1,250 modules of node_modules
 * and `dist`: no module resolution, one compile-cache entry per file, one ES module graph of a
 * few nodes. The bundle is made from the sources (the `source` condition), so its source map
 * points at the TypeScript files.
 *
 *   node scripts/bundle.ts [master|worker ...]     (default: both)
 *   node scripts/bundle.ts --clean                 (npm run clean: removes both)
 *
 * ESM with code splitting: what the programs import dynamically (the S3 SDK at the first S3
 * request, the worker's Avro and Parquet libraries at a range's first columnar write) stays a
 * chunk of its own, loaded when first needed, as before.
 *
 * External (left in node_modules, imported at run time as before) is any package that reads
 * its own files at run time, or that must stay one copy shared with one that does:
 * - @platformatic/wasm-utils reads its `native.wasm` (CRC-32C, LZ4, Snappy of the Kafka layer);
 * - @platformatic/dynamic-buffer, because wasm-utils imports it and recognises its buffers by a
 *   module-private symbol: a second, bundled copy would make them strangers;
 * - msgpackr (BullMQ's job packing) finds its native extension, msgpackr-extract, from its own
 *   folder;
 * - @fastify/swagger-ui serves the Swagger UI files from its own folder (and loads them only
 *   at the first request under /docs anyway);
 * - ioredis reads its own package.json (the library version it sends with CLIENT SETINFO);
 * - protobufjs finds optional modules with an eval'd `require` (`@protobufjs/inquire`),
 *   which a bundle breaks; it is loaded at a range's first registry write, never at start.
 * @fastify/swagger reads its own package.json (`lib/util/read-package-json.js`), only for an
 * OpenAPI document's default title and version, which the API sets (api-docs.ts): it is
 * bundled, or it would load `yaml` a second time, from node_modules, at every start (no
 * difference measurable in start-up CPU at load average 9-11). BullMQ 6 carries its Lua
 * scripts as JavaScript (`dist/cjs/scripts/*.js`) and reads no file of its own at run time, so
 * it is bundled; it imports ioredis and msgpackr, the external ones.
 * The build fails when a package is both bundled and a dependency of an external one (two
 * copies at run time: the dynamic-buffer case), unless it is listed in TWO_COPIES_ALLOWED.
 *
 * The bundled CommonJS packages (pino, fastify, node-zookeeper-client, prom-client, ...) call
 * `require` for Node's built-ins, which an ES module lacks: each output file begins with a
 * `require` made by `createRequire` (the `__dirname` some of them use on error paths too).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** The packages left out of the bundles; see the file's header for why each. */
export const EXTERNAL = [
  '@platformatic/wasm-utils',
  '@platformatic/dynamic-buffer',
  'msgpackr',
  '@fastify/swagger-ui',
  'ioredis',
  'protobufjs',
];

/**
 * Packages both bundled and below an external one, each with why two copies are harmless:
 * they keep no state and no identity (class, private symbol) that the two sides exchange.
 */
const TWO_COPIES_ALLOWED: Record<string, string> = {
  yaml: 'a parser: text in, objects out',
  rfdc: 'a deep-copy function',
  'fast-uri': 'a URI parser',
  'fast-decode-uri-component': 'a decoding function',
  fastq: 'a queue class each user makes its own of',
  reusify: 'an object pool each user makes its own of',
  ms: 'a duration parser',
  debug: 'reads DEBUG once per copy; Sluice logs with pino',
  'fastify-plugin': 'marks a plugin function with symbols from Symbol.for, the same in every copy',
};

/** The package a module path belongs to (`node_modules/@a/b/x.js` -> `@a/b`), else undefined. */
function packageOf(path: string): string | undefined {
  const m = /(?:^|[\\/])node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*node_modules)/.exec(path);
  return m?.[1]?.replace('\\', '/');
}

/** Every package the external ones load at run time (their dependencies, transitively). */
function externalClosure(): Map<string, string> {
  const below = new Map<string, string>();
  const visit = (name: string, via: string) => {
    if (below.has(name)) return;
    below.set(name, via);
    let manifest: { dependencies?: Record<string, string> };
    try {
      manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
    } catch {
      return; // an optional dependency not installed on this platform
    }
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, via);
  };
  for (const name of EXTERNAL) visit(name, name);
  return below;
}

const BANNER = [
  "import { createRequire as __sluiceCreateRequire } from 'node:module';",
  "import { dirname as __sluiceDirname } from 'node:path';",
  "import { fileURLToPath as __sluiceFileURLToPath } from 'node:url';",
  'const require = __sluiceCreateRequire(import.meta.url);',
  'const __filename = __sluiceFileURLToPath(import.meta.url);',
  'const __dirname = __sluiceDirname(__filename);',
].join(' ');

/**
 * `shared/src/kafka/library.ts` loads @platformatic/kafka's files by URL next to the package's
 * index (the package exports only its index, and Node refuses a deeper specifier), which a
 * bundler cannot follow. For the bundle, each `load('./x.js')` of that file becomes
 * `import('@platformatic/kafka/dist/x.js')`, resolved by path below: the same list of files,
 * written once, in library.ts.
 */
const kafkaFiles: esbuild.Plugin = {
  name: 'sluice-kafka-files',
  setup(build) {
    build.onLoad({ filter: /[\\/]shared[\\/]src[\\/]kafka[\\/]library\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      let n = 0;
      const contents = source
        // The URL base and the loader are not needed once every file is a static specifier.
        .replace(/^const index = import\.meta\.resolve\([^\n]*\n/m, '')
        .replace(/^const load = [^\n]*\n/m, '')
        .replace(/\bload\('\.\/([\w/.-]+\.js)'\)/g, (_m, file: string) => {
          n++;
          return `import('@platformatic/kafka/dist/${file}')`;
        });
      // Every call rewritten: one left (a computed name) would load the file outside the bundle.
      const code = contents.split('\n').filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
      if (n === 0 || code.some((line) => /\bload\(|import\.meta\.resolve/.test(line))) {
        throw new Error(
          `scripts/bundle.ts: ${args.path} no longer names its files as load('./…') literals; update the sluice-kafka-files plugin`,
        );
      }
      return { contents, loader: 'ts' };
    });
    build.onResolve({ filter: /^@platformatic\/kafka\/dist\// }, (args) => ({
      path: join(ROOT, 'node_modules', args.path),
    }));
  },
};

/**
 * @platformatic/kafka's `ajv/dist/2020.js` becomes shared/src/kafka/ajv-deferred.ts over the
 * real Ajv: the library makes its Ajv instance and compiles its option validators when it
 * loads, and validates only for `strict: true` clients, which Sluice never makes. Deferred, Ajv
 * loads and compiles at the first validation, so never in a start (0.25-0.35 CPU s saved in each
 * program's, bench/README.md item 11). The real Ajv is still bundled, behind a lazy `require`; only
 * the library's own import is redirected (the shim's `require` resolves as usual).
 */
const ajvDeferred: esbuild.Plugin = {
  name: 'sluice-ajv-deferred',
  setup(build) {
    build.onResolve({ filter: /^ajv\/dist\/2020\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]@platformatic[\\/]kafka[\\/]/.test(args.importer)
        ? { path: 'ajv/dist/2020.js', namespace: 'sluice-ajv-deferred' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'sluice-ajv-deferred' }, () => ({
      contents: [
        `import { deferAjv } from ${JSON.stringify(join(ROOT, 'packages', 'shared', 'src', 'kafka', 'ajv-deferred.ts'))};`,
        "export const Ajv2020 = deferAjv(() => require('ajv/dist/2020.js').Ajv2020);",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    }));
  },
};

/**
 * Node builtins whose ES-module namespace is costly to make: importing `node:http` as an ES
 * module runs every getter among its exports, and its `WebSocket`, `CloseEvent` and
 * `MessageEvent` load Node's copy of undici (0.06-0.07 CPU s of every start; `tls` reads its
 * root certificates the same way, ~0.01 s). `require` and `process.getBuiltinModule` run no
 * getter. In the bundle these imports become a module that takes the builtin from
 * `process.getBuiltinModule` and exports its plain values (every export but those getters,
 * listed from the Node that builds, which is the Node that runs the bundle).
 */
const LAZY_BUILTINS = ['http', 'tls'];

const builtinsWithoutGetters: esbuild.Plugin = {
  name: 'sluice-builtins-without-getters',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    build.onResolve({ filter }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import'
        ? { path: args.path.replace(/^node:/, ''), namespace: 'sluice-builtin' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'sluice-builtin' }, (args) => {
      const builtin = process.getBuiltinModule(`node:${args.path}`) as Record<string, unknown>;
      const names = Object.keys(builtin).filter(
        (k) => Object.getOwnPropertyDescriptor(builtin, k)?.get === undefined && /^[A-Za-z_$][\w$]*$/.test(k),
      );
      return {
        contents: [
          `const builtin = process.getBuiltinModule('node:${args.path}');`,
          'export default builtin;',
          `export const { ${names.join(', ')} } = builtin;`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * The module wrappers of a bundle, compiled with their file and kept in the compile cache.
 * esbuild wraps each CommonJS module (and each ES module it must initialise lazily) in a
 * function, `var require_x = __commonJS({ "node_modules/x/index.js"(exports, module) { … } });`,
 * that runs when the module is first required: at start, for nearly all of them. V8 compiles a
 * function at its first call unless it stands in parentheses, and Node's compile cache keeps the
 * code V8 made when the file was compiled, before it ran: so every start compiled those
 * wrappers again (unbundled, Node's loader compiles each CommonJS file whole, and caches it).
 * Written as `"node_modules/x/index.js": (function(exports, module) { … })`, they are compiled
 * with the file and cached (warm starts 0.06-0.10 CPU s cheaper, bench/README.md). The lines
 * are esbuild's own, unchanged in number, so the source map still holds; an opening this does
 * not recognise fails the build rather than quietly costing the saving.
 */
export function eagerModuleWrappers(code: string, file: string): string {
  const lines = code.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    if (!/ = __(?:commonJS|esm)\(\{$/.test(lines[i] ?? '')) continue;
    const head = /^ {2}("[^"\n]*")\(([\w$, ]*)\) \{$/.exec(lines[i + 1] ?? '');
    let end = i + 2;
    while (end < lines.length - 1 && !(lines[end] === '  }' && lines[end + 1] === '});')) end++;
    if (!head || end >= lines.length - 1) {
      throw new Error(
        `scripts/bundle.ts: ${file}:${i + 1}: a module wrapper not in the form esbuild 0.28 writes; see eagerModuleWrappers`,
      );
    }
    lines[i + 1] = `  ${head[1]}: (function(${head[2]}) {`;
    lines[end] = '  })';
    i = end;
  }
  return lines.join('\n');
}

export interface BundleResult {
  /** The entry file, to run with node. */
  main: string;
  /** Every file written (entry, chunks, source maps). */
  files: string[];
}

/** Writes `<outdir>/main.js` and its chunks for one program, from its sources. */
export async function bundleProgram(program: 'master' | 'worker', outdir: string): Promise<BundleResult> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'packages', program, 'src', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22.22',
    conditions: ['source'],
    external: EXTERNAL,
    banner: { js: BANNER },
    // Classes and functions keep their names (pino's error serializer logs err.constructor.name,
    // and a bundle renames what two modules both declare).
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    plugins: [kafkaFiles, ajvDeferred, builtinsWithoutGetters],
    metafile: true,
    logLevel: 'warning',
  });
  const below = externalClosure();
  const twice = new Map<string, string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const name = packageOf(input);
    const via = name === undefined ? undefined : below.get(name);
    if (name !== undefined && via !== undefined && !(name in TWO_COPIES_ALLOWED)) twice.set(name, via);
  }
  if (twice.size > 0) {
    throw new Error(
      `scripts/bundle.ts: ${program}: bundled and also loaded by an external package (two copies at run time): ${[
        ...twice,
      ]
        .map(([name, via]) => `${name} (below ${via})`)
        .join(', ')}; make it external too, or list it in TWO_COPIES_ALLOWED with why that is harmless`,
    );
  }
  // A chunk made of a CommonJS package and reached by import() exports only `default`, where
  // Node would have found the package's names: `(await import('pkg')).name` is then undefined.
  const cjsBehindImport = Object.entries(result.metafile.outputs)
    .filter(([, o]) => o.entryPoint?.includes('node_modules/') && o.exports.join() === 'default')
    .filter(([path]) =>
      Object.values(result.metafile.outputs).some((o) =>
        o.imports.some((i) => i.kind === 'dynamic-import' && i.path === path),
      ),
    )
    .map(([, o]) => o.entryPoint);
  if (cjsBehindImport.length > 0) {
    throw new Error(
      `scripts/bundle.ts: ${program}: import() of a CommonJS package, whose chunk exports only its default: ${cjsBehindImport.join(', ')}; import an ES module of Sluice's that re-exports the names you need instead (as shared/src/s3/s3-sdk.ts)`,
    );
  }
  // The library still loads its Ajv through the stand-in: a library that imports Ajv another
  // way would compile its validators at every start again, unnoticed but for the benchmark.
  const inputs = Object.keys(result.metafile.inputs);
  if (
    inputs.some((i) => i.includes('node_modules/@platformatic/kafka/')) &&
    !inputs.includes('sluice-ajv-deferred:ajv/dist/2020.js')
  ) {
    throw new Error(
      `scripts/bundle.ts: ${program}: @platformatic/kafka no longer imports ajv/dist/2020.js; update the sluice-ajv-deferred plugin to what it imports now`,
    );
  }
  const files = Object.keys(result.metafile.outputs).map((f) => join(ROOT, f));
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const code = eagerModuleWrappers(readFileSync(file, 'utf8'), file);
    // Still JavaScript: a rewrite that went wrong fails the build here, not a start.
    await esbuild.transform(code, { loader: 'js', format: 'esm', logLevel: 'silent' });
    writeFileSync(file, code);
  }
  return { main: join(outdir, 'main.js'), files };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--clean')) {
    for (const program of ['master', 'worker']) {
      rmSync(join(ROOT, 'packages', program, 'dist', 'bundle'), { recursive: true, force: true });
    }
    process.exit(0);
  }
  const wanted = args;
  const programs = (wanted.length > 0 ? wanted : ['master', 'worker']) as Array<'master' | 'worker'>;
  for (const program of programs) {
    if (program !== 'master' && program !== 'worker') {
      process.stderr.write(`scripts/bundle.ts: unknown program ${program}; say master or worker\n`);
      process.exit(2);
    }
    const outdir = join(ROOT, 'packages', program, 'dist', 'bundle');
    const { files } = await bundleProgram(program, outdir);
    const js = files.filter((f) => f.endsWith('.js'));
    process.stdout.write(`bundle: ${relative(ROOT, outdir)}: ${js.length} files\n`);
  }
}
