// The typed TypeScript client of docs/examples/client (docs/client-kit.md): generated.ts is what
// graphql-codegen makes of .graphqlrc.yml today (regenerated and compared, like make generate for
// Go), it compiles with tsc, and the compiled client logs in, reads the balance and sends coins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { endpoint, adminToken, customer, balance } from '../lib/coffer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const e2e = join(here, '..');
const repo = join(e2e, '..');
const run = promisify(execFile);

test('graphql-codegen: generated.ts is up to date with the schema and operations', async () => {
  // From the repository root, where .graphqlrc.yml is; the plugins live in e2e/node_modules.
  const { stdout, stderr } = await run(join(e2e, 'node_modules/.bin/graphql-codegen'), ['--check'], {
    cwd: repo, env: { ...process.env, NODE_PATH: join(e2e, 'node_modules') },
  }).catch((err) => {
    throw new Error(`generated.ts is stale: run \`cd e2e && NODE_PATH=$PWD/node_modules npx graphql-codegen --config ../.graphqlrc.yml\` from the repository root (see docs/client-kit.md)\n${err.stdout}${err.stderr}`);
  });
  assert.ok(stdout.length + stderr.length > 0);
});

test('typed client: compiled with tsc, logs in, reads the balance, sends coins', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'coffer-client-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await run(join(e2e, 'node_modules/.bin/tsc'), ['-p', join(repo, 'docs/examples/client'), '--outDir', out]);
  const { Client, CofferError } = await import(pathToFileURL(join(out, 'coffer.js')));
  const { LoginDocument, BalanceDocument, SendCoinsDocument, StatementDocument } = await import(pathToFileURL(join(out, 'generated.js')));

  const admin = await adminToken();
  const alice = await customer(admin, 'typed-alice', '50.00');
  const bob = await customer(admin, 'typed-bob');
  const anonymous = new Client({ endpoint });

  const { login } = await anonymous.request(LoginDocument, { login: alice.username, password: alice.password });
  assert.equal(login.status, 'AUTHENTICATED');
  assert.equal(login.auth.user.role, 'CUSTOMER');
  const client = anonymous.withToken(login.auth.token);

  const before = await client.request(BalanceDocument, {});
  assert.equal(before.me.username, alice.username);
  assert.equal(before.me.customer.account.balance.amount, '50.00');

  const { sendCoins } = await client.request(SendCoinsDocument, {
    input: { recipient: { username: bob.username }, amount: '12.50', memo: 'typed', idempotencyKey: 'typed-1' },
  });
  assert.equal(sendCoins.status, 'POSTED');
  assert.equal(sendCoins.amount.amount, '12.50');

  const after = await client.request(BalanceDocument, {});
  assert.equal(after.me.customer.account.balance.amount, '37.50');
  assert.equal((await balance(bob.token)).balance.amount, '12.50');
  const { me } = await client.request(StatementDocument, { first: 1 });
  assert.equal(me.customer.account.entries.edges[0].node.memo, 'typed');

  // Errors arrive as CofferError with the contract's extensions.
  const refused = await client.request(SendCoinsDocument, { input: { recipient: { username: bob.username }, amount: '1000.00' } })
    .then(() => null, (err) => err);
  assert.ok(refused instanceof CofferError, String(refused));
  assert.equal(refused.code, 'INSUFFICIENT_FUNDS');
  const twoWays = await client.request(SendCoinsDocument, { input: { recipient: { username: bob.username, email: bob.email }, amount: '1.00' } })
    .then(() => null, (err) => err);
  assert.equal(twoWays?.code, 'BAD_USER_INPUT');
  assert.ok(twoWays.fields.recipient, 'extensions.fields.recipient');
  assert.equal((await client.request(BalanceDocument, {})).me.customer.account.balance.amount, '37.50', 'refusals moved nothing');
});

test('typed client: RecipientInput is @oneOf in the types too (two ways do not compile)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-oneof-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const client = join(repo, 'docs/examples/client');
  for (const f of ['coffer.ts', 'generated.ts']) copyFileSync(join(client, f), join(dir, f));
  const compile = (recipient) => {
    writeFileSync(join(dir, 'use.ts'), `import { Client } from './coffer.js';
import { SendCoinsDocument } from './generated.js';
await new Client({ endpoint: 'http://x/query' }).request(SendCoinsDocument, { input: { recipient: ${recipient}, amount: '1' } });
export {};`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      extends: join(client, 'tsconfig.json'), compilerOptions: { noEmit: true }, files: ['use.ts'] }));
    return run(join(e2e, 'node_modules/.bin/tsc'), ['-p', dir]).then(() => '', (err) => err.stdout);
  };
  assert.equal(await compile(`{ username: 'bob' }`), '', 'one way compiles');
  assert.match(await compile(`{ username: 'bob', email: 'bob@example.com' }`), /error TS\d+/, 'two ways do not');
});
