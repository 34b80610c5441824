// The graphql-http conformance audit against a running server:
//   node audit.mjs http://127.0.0.1:8080/graphql
// Prints every audit (its status, id and name; a reason when it failed) and a summary per level.
//
// graphql-http names every audit after its level ("MUST …", "SHOULD …", "MAY …") and reports a
// failed MUST as status "error", a failed SHOULD as "warn" and a failed MAY as "notice". This
// script fails (exit 1) when any MUST or SHOULD fails; failed MAYs are printed but do not fail.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const LEVELS = ['MUST', 'SHOULD', 'MAY'];
const levelOf = (name) => LEVELS.find((level) => name.startsWith(`${level} `));

const started = Date.now();
const results = await auditServer({ url });
const counts = Object.fromEntries(LEVELS.map((level) => [level, { passed: 0, failed: 0 }]));
const failures = [];

for (const result of results) {
  const level = levelOf(result.name);
  if (!level) throw new Error(`an audit whose name has no level: ${result.name}`);
  if (result.status === 'ok') {
    counts[level].passed += 1;
    console.log(`ok     ${result.id} ${result.name}`);
    continue;
  }
  counts[level].failed += 1;
  let body = '';
  try {
    body = await result.response.text();
  } catch {
    // the body was read by the audit already
  }
  console.log(`${result.status.padEnd(6)} ${result.id} ${result.name}`);
  console.log(`         reason: ${result.reason}`);
  console.log(
    `         response: ${result.response.status} ${result.response.headers.get('content-type') ?? '-'} ${body.slice(0, 300)}`,
  );
  if (level !== 'MAY') failures.push(result);
}

console.log('');
console.log('(a failed MAY is optional: printed, but it does not fail the audit)');
for (const level of LEVELS) {
  const { passed, failed } = counts[level];
  console.log(`${level}: ${passed} passed, ${failed} failed`);
}
console.log(`audit of ${url}: ${results.length} audits in ${Date.now() - started} ms`);
if (failures.length > 0) {
  console.log(`FAILED: ${failures.length} MUST or SHOULD audit(s) failed`);
  process.exit(1);
}
console.log('passed: every MUST and SHOULD');
