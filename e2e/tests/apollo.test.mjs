// @apollo/client 4 from Node, as an app's back end would use it: log in, page through the
// statement, and retry a transfer with the same idempotencyKey (same answer, money moved once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { endpoint, adminToken, customer, balance } from '../lib/coffer.mjs';

const client = new ApolloClient({ link: new HttpLink({ uri: endpoint, fetch }), cache: new InMemoryCache() });
const as = (token) => ({ headers: { authorization: `Bearer ${token}` } });

const LOGIN = gql`mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { status auth { token user { username role } } } }`;
const SEND = gql`mutation Send($in: SendCoinsInput!) { sendCoins(input: $in) { id status amount { amount } } }`;
const STATEMENT = gql`query Statement($first: Int!, $after: Cursor) {
  me { customer { account { id balance { amount }
    entries(first: $first, after: $after) {
      totalCount
      edges { cursor node { id type amount { amount } balanceAfter { amount } memo } }
      pageInfo { hasNextPage endCursor } } } } } }`;

test('Apollo: login, paginated statement, idempotent transfer', async (t) => {
  const admin = await adminToken();
  const alice = await customer(admin, 'apollo-alice', '100.00');
  const bob = await customer(admin, 'apollo-bob');

  await t.test('logs in and reads the user back', async () => {
    const { data } = await client.mutate({ mutation: LOGIN, variables: { login: alice.username, password: alice.password } });
    assert.equal(data.login.status, 'AUTHENTICATED');
    assert.equal(data.login.auth.user.username, alice.username);
    assert.equal(data.login.auth.user.role, 'CUSTOMER');
    alice.token = data.login.auth.token;
  });

  await t.test('pages through the statement, newest first, every entry once', async () => {
    for (let i = 1; i <= 5; i++) {
      await client.mutate({ mutation: SEND, context: as(alice.token),
        variables: { in: { recipient: { username: bob.username }, amount: `${i}.00`, memo: `page-${i}` } } });
    }
    const seen = [];
    let after = null;
    let pages = 0;
    for (;;) {
      const { data } = await client.query({ query: STATEMENT, variables: { first: 2, after }, context: as(alice.token), fetchPolicy: 'no-cache' });
      const conn = data.me.customer.account.entries;
      assert.equal(conn.totalCount, 6, 'one creation and five transfers');
      assert.ok(conn.edges.length <= 2);
      seen.push(...conn.edges.map((e) => e.node));
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    assert.equal(pages, 3);
    assert.equal(new Set(seen.map((e) => e.id)).size, 6);
    assert.deepEqual(seen.map((e) => e.memo), ['page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'e2e']);
    assert.deepEqual(seen.map((e) => e.balanceAfter.amount), ['85.00', '90.00', '94.00', '97.00', '99.00', '100.00']);
  });

  await t.test('the same idempotencyKey twice: one transaction, money moved once', async () => {
    const before = [await balance(alice.token), await balance(bob.token)];
    const input = { recipient: { email: bob.email }, amount: '7.25', memo: 'retry', idempotencyKey: 'apollo-retry-1' };
    const first = await client.mutate({ mutation: SEND, variables: { in: input }, context: as(alice.token) });
    const second = await client.mutate({ mutation: SEND, variables: { in: input }, context: as(alice.token) });
    assert.equal(first.data.sendCoins.status, 'POSTED');
    assert.equal(second.data.sendCoins.id, first.data.sendCoins.id);
    const after = [await balance(alice.token), await balance(bob.token)];
    assert.equal(before[0].balance.amount, '85.00');
    assert.equal(after[0].balance.amount, '77.75');
    assert.equal(after[1].balance.amount, (Number(before[1].balance.amount) + 7.25).toFixed(2));
    assert.equal(after[0].version, before[0].version + 1, 'one entry more on the sender, not two');
  });
});
