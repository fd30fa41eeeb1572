// Automatic persisted queries with Apollo Client 4's PersistedQueryLink (docs/client-kit.md): the
// first request of an operation carries only its SHA-256 and is answered PERSISTED_QUERY_NOT_FOUND,
// the link retries with the text, which registers it; from then on any client's hash-only request
// is served without the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { endpoint, adminToken, customer } from '../lib/coffer.mjs';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** apolloWithAPQ is a client whose requests (bodies and answers) are recorded in sent. */
function apolloWithAPQ(token, sent) {
  const recording = async (uri, options) => {
    const res = await fetch(uri, options);
    const body = await res.clone().json();
    sent.push({ request: JSON.parse(options.body), status: res.status, response: body });
    return res;
  };
  const http = new HttpLink({ uri: endpoint, fetch: recording, headers: { authorization: `Bearer ${token}` } });
  return new ApolloClient({ link: new PersistedQueryLink({ sha256 }).concat(http), cache: new InMemoryCache() });
}

// A text no other test sends, so the first request cannot find it registered.
const BALANCE = gql`query ApqBalance { me { username customer { account { balance { amount } } } } }`;

test('APQ: hash only, PersistedQueryNotFound, registered with the text, then served by hash', async () => {
  const admin = await adminToken();
  const alice = await customer(admin, 'apq-alice', '3.00');

  const first = [];
  const { data } = await apolloWithAPQ(alice.token, first).query({ query: BALANCE, fetchPolicy: 'no-cache' });
  assert.equal(data.me.customer.account.balance.amount, '3.00');
  assert.equal(first.length, 2, 'a miss, then the registration');
  const hash = first[0].request.extensions.persistedQuery.sha256Hash;
  assert.equal(first[0].request.query, undefined, 'the first request sends the hash only');
  assert.equal(first[0].response.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
  assert.equal(first[0].response.errors[0].message, 'PersistedQueryNotFound');
  assert.equal(sha256(first[1].request.query), hash, 'the retry sends the text with its hash');
  assert.equal(first[1].response.errors, undefined);

  // Another client (another process, another user) sends the hash alone and is served at once.
  const bob = await customer(admin, 'apq-bob', '4.00');
  const second = [];
  const again = await apolloWithAPQ(bob.token, second).query({ query: BALANCE, fetchPolicy: 'no-cache' });
  assert.equal(again.data.me.username, bob.username);
  assert.equal(again.data.me.customer.account.balance.amount, '4.00');
  assert.equal(second.length, 1, 'one request');
  assert.equal(second[0].request.query, undefined, 'without the text');
  assert.equal(second[0].request.extensions.persistedQuery.sha256Hash, hash);
  assert.equal(second[0].status, 200);
});
