// graphql-http's server audit (the GraphQL-over-HTTP specification's MUST and SHOULD rules)
// against /query. Every MUST passes; the SHOULD audits that fail are exactly the ones listed in
// shouldFailures with the reason (also in docs/testing.md, "End-to-end tests").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditServer } from 'graphql-http';
import { endpoint } from '../lib/coffer.mjs';

// The audit's id → why coffer answers otherwise. Keep docs/testing.md in step.
// gqlgen's POST transport answers every request error (parse, validation, variable coercion) with
// 422 and a body {"errors": [...], "data": null}, whatever the Accept header; coffer keeps gqlgen's
// transport rather than a hand-made one, and clients read the errors from the body either way.
export const shouldFailures = {
  '572B': 'application/json: a document parsing failure answers 422 (gqlgen), not 200',
  'FDE2': 'application/json: a document validation failure answers 422 (gqlgen), not 200',
  '7B9B': 'application/json: a variable coercion failure answers 422 (gqlgen), not 200',
  'D586': 'application/graphql-response+json: a parsing failure carries "data": null (gqlgen)',
  '5E5B': 'application/graphql-response+json: a validation failure carries "data": null (gqlgen)',
};

test('graphql-http audit: every MUST passes, SHOULD failures are the known ones', async (t) => {
  const results = await auditServer({ url: endpoint, fetchFn: fetch });
  const errors = results.filter((r) => r.status === 'error');
  const warns = results.filter((r) => r.status === 'warn');
  for (const r of results) t.diagnostic(`${r.status.padEnd(6)} ${r.id} ${r.name}${r.status === 'ok' ? '' : ` — ${r.reason}`}`);
  assert.deepEqual(errors.map((r) => `${r.id} ${r.name}: ${r.reason}`), [], 'MUST audits failed');
  assert.deepEqual(warns.map((r) => r.id).sort(), Object.keys(shouldFailures).sort(),
    `SHOULD failures changed:\n${warns.map((r) => `${r.id} ${r.name}: ${r.reason}`).join('\n')}`);
  assert.ok(results.length >= 13, `only ${results.length} audits ran`);
});
