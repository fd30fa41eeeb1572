// The example clients in docs/ run as their comments say, against the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { url, adminPassword, adminToken, customer, gql } from '../lib/coffer.mjs';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');

function run(cmd, args, options) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('docs/curl-session.sh: a whole session with curl', async () => {
  const r = await run('bash', [join(docs, 'curl-session.sh')], { env: { ...process.env, COFFER_URL: url, ADMIN_PASSWORD: adminPassword } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"balance":\{"amount":"37.50","currency":"EUR"\}/);
});

test('docs/subscriber.mjs: prints a missed balance change (afterVersion), then exits after COUNT', async () => {
  const admin = await adminToken();
  const erin = await customer(admin, 'doc-erin', '20.00'); // version 1
  const frank = await customer(admin, 'doc-frank');
  await gql('mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }',
    { in: { recipient: { username: frank.username }, amount: '4.00', memo: 'docs' } }, erin.token); // version 2
  // The example imports graphql-ws and ws by name: run its text from e2e/, whose node_modules has them.
  const source = readFileSync(join(docs, 'subscriber.mjs'), 'utf8');
  const r = await run(process.execPath, ['--input-type=module', '-e', source], {
    cwd: join(docs, '..', 'e2e'),
    env: { ...process.env, COFFER_URL: url, COFFER_TOKEN: erin.token, ACCOUNT_ID: erin.account.id, AFTER_VERSION: '1', COUNT: '1' },
  });
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout.trim().split('\n')[0]);
  assert.deepEqual([e.version, e.balance.amount, e.entry.type, e.entry.memo], [2, '16.00', 'SEND', 'docs']);
});
