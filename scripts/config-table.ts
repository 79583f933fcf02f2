/**
 * `npm run docs:config`: prints the README's Configuration table as the settings table of
 * packages/shared/src/config.ts makes it; `npm run docs:config -- --write` replaces the table
 * in README.md (its header line finds it). The unit test config-table.test.ts fails while
 * the two differ, naming the setting.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTableMarkdown, findConfigTable } from '../packages/shared/src/config-table.ts';

const table = configTableMarkdown();
if (!process.argv.includes('--write')) {
  process.stdout.write(`${table}\n`);
} else {
  const path = join(import.meta.dirname, '..', 'README.md');
  const lines = readFileSync(path, 'utf8').split('\n');
  const at = findConfigTable(lines);
  if (!at) {
    process.stderr.write(
      'README.md has no line "| setting | program | default | meaning |"; add the header\n',
    );
    process.exit(1);
  }
  lines.splice(at[0], at[1] - at[0], ...table.split('\n'));
  writeFileSync(path, lines.join('\n'));
  process.stdout.write('README.md: Configuration table written from packages/shared/src/config.ts\n');
}
