/** The README's Configuration table is the one the settings table makes (pure: reads README.md). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTING_TABLE } from '../src/config.ts';
import { configTableMarkdown, configTableRows, findConfigTable } from '../src/config-table.ts';

const FIX = 'run `npm run docs:config -- --write` to rewrite it from packages/shared/src/config.ts';

test("README.md's Configuration table is the one the settings table makes, setting by setting", () => {
  const lines = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8').split('\n');
  const at = findConfigTable(lines);
  assert.ok(at, 'README.md has no Configuration table (header "| setting | program | default | meaning |")');
  const documented = lines.slice(at[0] + 2, at[1]);
  const wanted = configTableRows();
  const problems: string[] = [];
  for (const { name, line } of wanted) {
    const cell = name.startsWith('SLUICE_') ? `\`${name}\`` : name;
    const found = documented.find((l) => l.startsWith(`| ${cell} |`));
    if (!found) problems.push(`${name}: not in README.md's table; the settings table has\n    ${line}`);
    else if (found !== line)
      problems.push(`${name}: README.md has\n    ${found}\n  the settings table has\n    ${line}`);
  }
  const names = new Set(wanted.map((w) => w.line));
  for (const l of documented)
    if (
      !names.has(l) &&
      !wanted.some((w) => l.startsWith(`| \`${w.name}\` |`) || l.startsWith(`| ${w.name} |`))
    )
      problems.push(`README.md documents a row no setting makes:\n    ${l}`);
  assert.deepEqual(problems, [], `${problems.join('\n')}\n${FIX}`);
  assert.equal(lines.slice(at[0], at[1]).join('\n'), configTableMarkdown(), `rows out of order; ${FIX}`);
});

test('every setting has one row, a SLUICE_ name, a meaning and a default the README can show', () => {
  const names = SETTING_TABLE.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'a setting is in the table twice');
  for (const s of SETTING_TABLE) {
    assert.match(s.name, /^SLUICE_[A-Z0-9_]+$/);
    assert.ok(s.meaning.length > 0 && !s.meaning.includes('\n') && !s.meaning.includes('|'), s.name);
  }
  assert.equal(configTableRows().filter((r) => r.name.startsWith('SLUICE_')).length, names.length);
});
