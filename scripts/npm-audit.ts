/**
 * CI's check of the production dependencies against npm's advisory service
 * (`npm audit --omit=dev`, run by .ci/run). What it decides:
 *  - a high or critical advisory in a production dependency fails CI (exit 1): that code ships
 *    in the images and runs with Sluice's credentials;
 *  - low and moderate advisories are listed and do not fail CI (they wait for the next
 *    dependency update);
 *  - no answer from the advisory service (offline machine, a registry mirror without the audit
 *    endpoint, a proxy that refuses it) is printed as such and does not fail CI: an unreachable
 *    service is not a finding, and CI must not depend on it.
 * Development dependencies are left out: they never reach the images.
 *
 * Usage: node scripts/npm-audit.ts      (from the repository's root, Node 24)
 */
import { spawnSync } from 'node:child_process';

type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical';
const FAILING: readonly Severity[] = ['high', 'critical'];

interface AuditReport {
  metadata?: { vulnerabilities?: Partial<Record<Severity | 'total', number>> };
  vulnerabilities?: Record<
    string,
    { severity: Severity; via: (string | { title?: string; url?: string })[] }
  >;
  message?: string;
  error?: { summary?: string };
}

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 });
let report: AuditReport = {};
try {
  report = JSON.parse(run.stdout || '{}') as AuditReport;
} catch {
  // not JSON: npm did not get an answer it could report
}

const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const why =
    report.message ||
    report.error?.summary ||
    (run.error ? String(run.error) : run.stderr.trim().split('\n').pop()) ||
    'no answer';
  console.log(
    `npm audit: could not check the production dependencies: the advisory service did not answer (${why}); not a failure, run \`npm audit --omit=dev\` where the registry's audit endpoint is reachable`,
  );
  process.exit(0);
}

for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
  const advisories = v.via
    .map((x) => (typeof x === 'string' ? `through ${x}` : `${x.title ?? 'advisory'} ${x.url ?? ''}`.trim()))
    .join('; ');
  console.log(`npm audit: ${v.severity.padEnd(8)} ${name}: ${advisories}`);
}
const failing = FAILING.reduce((n, s) => n + (counts[s] ?? 0), 0);
console.log(
  `npm audit: production dependencies: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low`,
);
if (failing > 0) {
  console.log(
    'npm audit: a high or critical advisory in a production dependency fails CI; update it (npm audit fix --omit=dev) or replace it',
  );
  process.exit(1);
}
