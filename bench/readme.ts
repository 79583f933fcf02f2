/**
 * The README's benchmark summary (between the `bench:begin` and `bench:end` markers of its
 * Benchmark section), made from bench/results.json by bench/lib/report.ts `readmeSection`.
 * `npm run bench` writes it after a whole run; this rewrites it from the committed results
 * (after a change to the generator), and `--check` (CI) fails when the README says something
 * else than the results do.
 *
 *   node --conditions=source bench/readme.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '@sluice/test-kit';
import { type Results, readmeSection, spliceReadme } from './lib/report.ts';

const readmePath = join(REPO, 'README.md');
const results = JSON.parse(readFileSync(join(REPO, 'bench', 'results.json'), 'utf8')) as Results;
const readme = readFileSync(readmePath, 'utf8');
const next = spliceReadme(readme, readmeSection(results));
if (process.argv.includes('--check')) {
  if (next !== readme) {
    process.stderr.write(
      "README.md's benchmark summary is not what bench/results.json gives: run `node --conditions=source bench/readme.ts` and commit README.md\n",
    );
    process.exit(1);
  }
  process.stdout.write("README.md's benchmark summary matches bench/results.json\n");
} else {
  writeFileSync(readmePath, next);
  process.stdout.write(`wrote the benchmark summary of ${readmePath}\n`);
}
