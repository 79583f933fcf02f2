/**
 * The README's Configuration table, written from the settings table of config.ts so that the
 * documentation cannot drift from the loader: `npm run docs:config` prints it (`-- --write`
 * puts it into README.md), and a unit test compares README.md with it row by row.
 */
import { REQUIRED, SETTING_TABLE, type Setting, secretFileSetting } from './config.ts';

/** The header and separator lines of the table, by which it is found in README.md. */
const HEADER = ['| setting | program | default | meaning |', '|---|---|---|---|'];

/**
 * Rows about names Sluice does not read itself but the README documents in the same place:
 * the AWS SDK's credentials, shown after the S3 settings.
 */
const EXTRA_ROWS: readonly { after: string; cells: readonly string[] }[] = [
  {
    after: 'SLUICE_S3_MAX_ATTEMPTS',
    cells: [
      '`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, …',
      'both',
      '',
      'S3 credentials, the usual AWS way (environment, profile, IRSA)',
    ],
  },
];

function shownDefault(s: Setting<unknown>): string {
  if (s.shownDefault !== undefined) return s.shownDefault;
  if (s.default === REQUIRED) return 'required';
  if (s.default === '' || typeof s.default === 'function') return '';
  return `\`${String(s.default)}\``;
}

/** The meaning column; a secret's says that its `_FILE` form reads it from a file instead. */
const meaning = (s: Setting<unknown>) =>
  s.secret ? `${s.meaning}; or \`${secretFileSetting(s)}\`: a file holding it (see Security)` : s.meaning;

/** One row as markdown; an empty cell is written `| |`, as in the README. */
const row = (cells: readonly string[]) => `|${cells.map((c) => (c === '' ? ' ' : ` ${c} `)).join('|')}|`;

/** The table's lines, each data row paired with the setting (or extra name) it documents. */
export function configTableRows(): { name: string; line: string }[] {
  const out: { name: string; line: string }[] = [];
  for (const s of SETTING_TABLE) {
    out.push({ name: s.name, line: row([`\`${s.name}\``, s.programs, shownDefault(s), meaning(s)]) });
    for (const extra of EXTRA_ROWS.filter((e) => e.after === s.name))
      out.push({ name: extra.cells[0]!, line: row(extra.cells) });
  }
  return out;
}

/** The whole table, header included, as it stands in README.md. */
export function configTableMarkdown(): string {
  return [...HEADER, ...configTableRows().map((r) => r.line)].join('\n');
}

/** Where the table is in a README's lines: [first, end) with the header, or null. */
export function findConfigTable(lines: readonly string[]): [number, number] | null {
  const first = lines.indexOf(HEADER[0]!);
  if (first < 0 || lines[first + 1] !== HEADER[1]) return null;
  let end = first + 2;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  return [first, end];
}
