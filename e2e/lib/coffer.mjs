// Helpers shared by the end-to-end tests: the server's address (from run.mjs), plain GraphQL over
// HTTP with fetch, and the set-up most tests need (customers with money).
import { readFileSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

export const url = process.env.COFFER_URL;
export const endpoint = `${url}/query`;
export const outbox = process.env.COFFER_OUTBOX;
export const adminPassword = process.env.COFFER_ADMIN_PASSWORD;
if (!url) throw new Error('COFFER_URL is not set: run the suite with `node run.mjs` (or `make test`)');

/** gqlRaw posts one operation and returns the parsed response ({data, errors}). */
export async function gqlRaw(query, variables = {}, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
}

/** gql is gqlRaw that fails on any error and returns data. */
export async function gql(query, variables = {}, token) {
  const r = await gqlRaw(query, variables, token);
  if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data;
}

export async function login(username, password) {
  const d = await gql(`mutation($u: String!, $p: String!) {
    login(input: {login: $u, password: $p}) { status auth { token } } }`, { u: username, p: password });
  if (d.login.status !== 'AUTHENTICATED') throw new Error(`login ${username}: ${JSON.stringify(d.login)}`);
  return d.login.auth.token;
}

export const adminToken = () => login('admin', adminPassword);

/** unique returns a username no other test (or the README's session) uses. */
export const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** customer creates a customer (as admin), mints coins to it when amount is given, logs it in. */
export async function customer(admin, prefix, amount) {
  const username = unique(prefix);
  const password = `${username}-password`;
  const d = await gql(`mutation($in: CreateCustomerInput!) { createCustomer(input: $in) {
      id account { id number iban } } }`,
  { in: { username, password, name: `E2E ${prefix}`, email: `${username}@example.com` } }, admin);
  if (amount) {
    await gql(`mutation($in: CreateCoinsInput!) { createCoins(input: $in) { id status } }`,
      { in: { recipient: { username }, amount, targetDate: new Date().toISOString(), memo: 'e2e' } }, admin);
  }
  return { username, password, email: `${username}@example.com`, account: d.createCustomer.account, token: await login(username, password) };
}

export async function balance(token) {
  const d = await gql('{ me { customer { account { balance { amount } version } } } }', {}, token);
  return d.me.customer.account;
}

/** lastCode returns the newest code the server sent to `to`, read from OUTBOX_FILE. */
export function lastCode(to) {
  if (!existsSync(outbox)) return undefined;
  const lines = readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return lines.filter((m) => !to || m.to === to).at(-1)?.code;
}
