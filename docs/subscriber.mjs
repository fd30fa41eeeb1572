// Prints every balance change of the logged-in customer's accounts as one JSON line, over
// WebSocket with graphql-ws (the graphql-transport-ws protocol). The token goes in
// connection_init; with AFTER_VERSION (and ACCOUNT_ID) it first replays the changes after that
// version, then goes on live, so a client that reconnects with the last version it saw misses
// nothing.
//
//   cd docs && npm install && COFFER_LOGIN=alice COFFER_PASSWORD=alice-password-1 node subscriber.mjs
//
// Environment: COFFER_URL (default http://127.0.0.1:8080), COFFER_TOKEN or COFFER_LOGIN and
// COFFER_PASSWORD, ACCOUNT_ID, AFTER_VERSION, COUNT (exit after that many events).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.COFFER_URL ?? 'http://127.0.0.1:8080';
const env = (name) => process.env[name] || undefined;

async function login() {
  if (env('COFFER_TOKEN')) return env('COFFER_TOKEN');
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status auth { token } } }',
      variables: { l: env('COFFER_LOGIN'), p: env('COFFER_PASSWORD') },
    }),
  });
  const { data, errors } = await res.json();
  if (errors || !data.login.auth) throw new Error(`login failed: ${JSON.stringify(errors ?? data.login)}`);
  return data.login.auth.token;
}

const token = await login();
const client = createClient({
  url: base.replace(/^http/, 'ws') + '/query',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
});

const variables = {
  accountId: env('ACCOUNT_ID'),
  afterVersion: env('AFTER_VERSION') === undefined ? undefined : Number(env('AFTER_VERSION')),
};
const limit = env('COUNT') === undefined ? Infinity : Number(env('COUNT'));
let seen = 0;
const subscription = client.iterate({
  query: `subscription($accountId: ID, $afterVersion: Int) {
    balanceChanged(accountId: $accountId, afterVersion: $afterVersion) {
      account { id number } version balance { amount currency } available { amount }
      entry { type amount { amount } memo } at } }`,
  variables,
});
try {
  for await (const result of subscription) {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    console.log(JSON.stringify(result.data.balanceChanged));
    if (++seen >= limit) break;
  }
} catch (err) {
  // A socket error (err.message), a close frame (err.code, err.reason) or GraphQL errors.
  console.error('subscription failed:', err?.message ?? (err?.code ? `closed ${err.code} ${err.reason}` : String(err)));
  process.exitCode = 1;
} finally {
  await client.dispose();
}
