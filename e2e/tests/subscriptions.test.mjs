// graphql-ws 6 (graphql-transport-ws) with ws 8 from Node, as a mobile or SPA client: the token in
// connection_init, balanceChanged after a transfer, and a resumed subscription (afterVersion)
// that replays what it missed, then goes on live, without gap or duplicate.
// Contract (API.md §4): balanceChanged(accountId: ID, afterVersion: Int): BalanceChange
// {account balance available version entry at}.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { url, gql, adminToken, customer } from '../lib/coffer.mjs';

const wsURL = url.replace(/^http/, 'ws') + '/query';
const clients = [];
after(() => Promise.all(clients.map((c) => c.dispose())));

const BALANCE_CHANGED = `subscription Balance($accountId: ID, $afterVersion: Int) {
  balanceChanged(accountId: $accountId, afterVersion: $afterVersion) {
    account { id } balance { amount } available { amount } version at
    entry { type amount { amount } memo } } }`;

function connect(connectionParams) {
  const client = createClient({ url: wsURL, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(client);
  return client;
}

/** subscribe returns next(timeoutMs) giving the subscription's events one at a time, and stop(). */
function subscribe(client, variables) {
  const queue = [];
  const waiters = [];
  const push = (item) => (waiters.length ? waiters.shift()(item) : queue.push(item));
  const stop = client.subscribe({ query: BALANCE_CHANGED, variables }, {
    next: (r) => push(r),
    error: (e) => push({ failed: e }),
    complete: () => push({ completed: true }),
  });
  const next = (timeoutMs = 5000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    const take = (item) => { clearTimeout(t); resolve(item); };
    queue.length ? take(queue.shift()) : waiters.push(take);
  });
  return { next, stop };
}

/** describe says what a failed subscription got: GraphQL errors, a close frame or a socket error. */
function describe(r) {
  const f = r.failed;
  if (!f) return JSON.stringify(r);
  if (Array.isArray(f)) return JSON.stringify(f);
  if ('code' in f) return `connection closed: ${f.code} ${f.reason ?? ''}`;
  return `socket error: ${f.message ?? f.error?.message ?? f.type ?? String(f)}`;
}

async function event(sub) {
  const r = await sub.next();
  assert.ok(r.data?.balanceChanged, `expected an event, got ${describe(r)}`);
  return r.data.balanceChanged;
}

const send = (from, to, amount, memo) => gql(`mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
  { in: { recipient: { username: to.username }, amount, memo } }, from.token);

test('graphql-ws: balanceChanged after a transfer, then resumed with afterVersion', async (t) => {
  const admin = await adminToken();
  const alice = await customer(admin, 'ws-alice', '50.00'); // version 1: the creation
  const bob = await customer(admin, 'ws-bob');

  await t.test('token as {"authorization": "Bearer ..."}: the sender sees its SEND line', async () => {
    const client = connect({ authorization: `Bearer ${alice.token}` });
    // afterVersion 1 makes the start race-free: whatever commits after version 1 is delivered.
    const sub = subscribe(client, { accountId: alice.account.id, afterVersion: 1 });
    await send(alice, bob, '5.00', 'ws-1');
    const e = await event(sub);
    assert.equal(e.account.id, alice.account.id);
    assert.equal(e.version, 2);
    assert.equal(e.balance.amount, '45.00');
    assert.equal(e.available.amount, '45.00');
    assert.equal(e.entry.type, 'SEND');
    assert.equal(e.entry.amount.amount, '5.00');
    assert.equal(e.entry.memo, 'ws-1');
    sub.stop();
  });

  await t.test('token as {"token": ...}, all own accounts: the recipient sees the credit', async () => {
    const client = connect({ token: bob.token });
    const sub = subscribe(client, {});
    // Without afterVersion only changes after the subscription starts arrive: give it a moment.
    await new Promise((r) => setTimeout(r, 500));
    await send(alice, bob, '2.50', 'ws-2');
    const e = await event(sub);
    assert.equal(e.account.id, bob.account.id);
    assert.equal(e.balance.amount, '7.50');
    assert.equal(e.entry.type, 'RECEIVE');
    sub.stop();
  });

  await t.test('resume with afterVersion: missed changes replayed in order, then live ones', async () => {
    await send(alice, bob, '1.00', 'missed-1'); // alice version 4
    await send(alice, bob, '1.00', 'missed-2'); // alice version 5
    const client = connect({ authorization: `Bearer ${alice.token}` });
    const sub = subscribe(client, { accountId: alice.account.id, afterVersion: 3 });
    const replayed = [await event(sub), await event(sub)];
    assert.deepEqual(replayed.map((e) => [e.version, e.entry.memo, e.balance.amount]),
      [[4, 'missed-1', '41.50'], [5, 'missed-2', '40.50']]);
    await send(alice, bob, '0.50', 'live-1');
    const live = await event(sub);
    assert.deepEqual([live.version, live.entry.memo, live.balance.amount], [6, 'live-1', '40.00']);
    sub.stop();
  });

  await t.test("another customer's account is refused like a missing one", async () => {
    const client = connect({ token: bob.token });
    const sub = subscribe(client, { accountId: alice.account.id });
    const r = await sub.next();
    const errors = Array.isArray(r.failed) ? r.failed : r.errors;
    assert.ok(errors?.length, `expected a GraphQL error, got ${describe(r)}`);
    assert.equal(errors[0].extensions?.code, 'NOT_FOUND');
  });
});
