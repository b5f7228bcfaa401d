/** The chaos run's tables: one per scenario as it ends, and a summary of all of them in Markdown. */
import { failed, type ScenarioResult } from './runner.js';

const seconds = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(1));

/** The columns of the summary, in the order the table of docs/OPERATIONS.md uses. */
const COLUMNS: Array<{ header: string; value: (r: ScenarioResult) => string }> = [
  { header: 'scenario', value: (r) => r.name },
  { header: 'correct', value: (r) => String(r.answers.correct) },
  { header: 'wrong identity', value: (r) => String(r.answers.wrongIdentity + r.checks.wrongIdentity) },
  { header: '401', value: (r) => String(r.answers.unauthorized) },
  { header: '503', value: (r) => String(r.answers.unavailable) },
  { header: 'other 5xx', value: (r) => String(r.answers.serverError) },
  { header: 'conn. errors', value: (r) => String(r.answers.connectionError) },
  { header: 'error window s', value: (r) => seconds(r.errorWindowSeconds) },
  { header: 'sessions lost', value: (r) => `${r.checks.sessionsLost}/${r.checks.checked.sessions}` },
  { header: 'logouts undone', value: (r) => `${r.checks.logoutsUndone}/${r.checks.checked.logouts}` },
  { header: 'ack. logins lost', value: (r) => `${r.checks.loginsLost}/${r.checks.checked.logins}` },
  { header: 'crashes', value: (r) => String(r.crashes) },
  { header: '/ready 200 while failing', value: (r) => String(r.readyWhileFailing) },
  { header: 'recovered after s', value: (r) => (r.recoverySeconds === undefined ? 'NO' : seconds(r.recoverySeconds)) },
  { header: 'verdict', value: (r) => (failed(r) ? 'FAIL' : 'ok') },
];

/** One scenario as a two-column table, with what its figures mean and why it failed. */
export function scenarioTable(r: ScenarioResult): string {
  const rows: Array<[string, string]> = [
    ['correct answers', String(r.answers.correct)],
    ['wrong identities', String(r.answers.wrongIdentity + r.checks.wrongIdentity)],
    ['401', String(r.answers.unauthorized)],
    ['503', String(r.answers.unavailable)],
    ['other 5xx', String(r.answers.serverError)],
    ['other status', String(r.answers.otherStatus)],
    ['connection errors', String(r.answers.connectionError)],
    ['error window (s)', seconds(r.errorWindowSeconds)],
    ['sessions lost', `${r.checks.sessionsLost} of ${r.checks.checked.sessions}`],
    ['logouts undone', `${r.checks.logoutsUndone} of ${r.checks.checked.logouts}`],
    ['acknowledged logins lost', `${r.checks.loginsLost} of ${r.checks.checked.logins}`],
    ['process crashes', String(r.crashes)],
    ['/ready 200 while failing', `${r.readyWhileFailing} of ${r.readyProbes} probes`],
    [
      'recovered',
      r.recoverySeconds === undefined ? 'NO (no correct answer from every client in time)' : `after ${seconds(r.recoverySeconds)} s`,
    ],
    ['topology whole again', r.settled ? 'yes' : 'NO'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [`== ${r.name}: ${r.title} ==`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
  lines.push(
    `  (${r.clients} clients, ${r.reLogins} new logins after a 401, ${r.checks.undecided} final checks undecided (503 or no answer), ${seconds(r.durationSeconds)} s)`,
  );
  lines.push(`  logins during the run: ${r.loginAnswers}; logouts: ${r.logoutAnswers}`);
  if (r.connectionErrorCauses.length) lines.push(`  connection errors: ${r.connectionErrorCauses.join(', ')}`);
  if (r.crashDetail) lines.push(`  crash: ${r.crashDetail}`);
  if (r.error) lines.push(`  ERROR: ${r.error}`);
  for (const note of r.notes) lines.push(`  note: ${note}`);
  lines.push(`  verdict: ${failed(r) ? `FAIL (${reasons(r).join('; ')})` : 'ok'}`);
  return lines.join('\n');
}

export function reasons(r: ScenarioResult): string[] {
  const out: string[] = [];
  if (r.error) out.push('did not run to its end');
  if (r.answers.wrongIdentity + r.checks.wrongIdentity > 0) out.push('wrong identities');
  if (r.checks.logoutsUndone > 0) out.push('logouts undone');
  if (r.crashes > 0) out.push('process crashes');
  if (r.recoverySeconds === undefined) out.push('did not recover by itself');
  return out;
}

/** Every scenario in one Markdown table. */
export function summaryTable(results: ScenarioResult[]): string {
  const header = `| ${COLUMNS.map((c) => c.header).join(' | ')} |`;
  const rule = `|${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  return [header, rule, ...results.map((r) => `| ${COLUMNS.map((c) => c.value(r)).join(' | ')} |`)].join('\n');
}
