/**
 * scripts/bundle.ts's eagerModuleWrappers: esbuild's module wrappers become parenthesized
 * functions (compiled with their file, so kept in the compile cache), line for line; a wrapper
 * in another form fails the build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eagerModuleWrappers } from '../../../scripts/bundle.ts';

const BUNDLED = [
  'var require_ms = __commonJS({',
  '  "node_modules/ms/index.js"(exports, module) {',
  '    module.exports = function() {',
  '      return 1;',
  '    };',
  '  }',
  '});',
  'var init_x = __esm({',
  '  "packages/shared/src/x.ts"() {',
  '    x = 2;',
  '  }',
  '});',
].join('\n');

test('each wrapper becomes a parenthesized function, the lines otherwise as they were', () => {
  const out = eagerModuleWrappers(BUNDLED, 'chunk.js').split('\n');
  assert.equal(out.length, BUNDLED.split('\n').length, 'the source map still holds line for line');
  assert.equal(out[1], '  "node_modules/ms/index.js": (function(exports, module) {');
  assert.equal(out[5], '  })');
  assert.equal(out[8], '  "packages/shared/src/x.ts": (function() {');
  assert.equal(out[10], '  })');
  assert.deepEqual(
    out.filter((_, i) => ![1, 5, 8, 10].includes(i)),
    BUNDLED.split('\n').filter((_, i) => ![1, 5, 8, 10].includes(i)),
  );
  // The wrapped module still runs and exports what it did.
  const run = new Function('__commonJS', `${out.slice(0, 7).join('\n')}; return require_ms();`) as (
    c: unknown,
  ) => () => number;
  const commonJS = (cb: Record<string, (e: object, m: { exports: unknown }) => void>) => () => {
    const mod = { exports: {} };
    Object.values(cb)[0]?.(mod.exports, mod);
    return mod.exports;
  };
  assert.equal(run(commonJS)(), 1);
});

test('a wrapper in a form esbuild did not write before fails, naming the line', () => {
  const odd = ['var require_a = __commonJS({', '  "a.js": function(exports) {', '  }', '});'].join('\n');
  assert.throws(() => eagerModuleWrappers(odd, 'chunk.js'), /chunk\.js:1: a module wrapper not in the form/);
});
