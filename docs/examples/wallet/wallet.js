// An example single-page wallet on another origin than coffer: the session lives in coffer's
// HttpOnly cookie (fetch with credentials: 'include', the WebSocket sends it too), so the page
// never sees or stores a token. coffer must list this page's origin in ALLOWED_ORIGINS.
// The API's address comes from ?api=, e.g. index.html?api=http://127.0.0.1:8080.
import { createClient } from 'graphql-ws';

const api = new URL(new URLSearchParams(location.search).get('api') ?? 'http://127.0.0.1:8080');
const endpoint = new URL('/query', api).href;
const $ = (id) => document.getElementById(id);

/** CofferError carries the contract's extensions: code, fields, retryAfter (seconds). */
class CofferError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code ?? 'INTERNAL';
    this.fields = error.extensions?.fields ?? {};
    this.retryAfter = error.extensions?.retryAfter;
  }
}

async function gql(query, variables = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    credentials: 'include', // the session cookie, on another origin
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new CofferError(body.errors[0]);
  return body.data;
}

const ME = `{ me { username customer { account { iban version balance { amount currency } } } } }`;
const STATEMENT = `query($first: Int!) { me { customer { account { entries(first: $first) {
  edges { node { id type amount { amount } balanceAfter { amount } memo bookedAt } } } } } } }`;
const LOGIN = `mutation($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { status } }`;
const SEND = `mutation($input: SendCoinsInput!) { sendCoins(input: $input) { id status } }`;
const BALANCE_CHANGED = `subscription($after: Int) { balanceChanged(afterVersion: $after) {
  account { kind } version balance { amount currency } } }`;

function showError(err) {
  if (!err) { $('error').textContent = ''; return; }
  const fields = Object.entries(err.fields ?? {}).map(([k, v]) => `${k}: ${v}`).join('; ');
  const wait = err.retryAfter ? ` (try again in ${err.retryAfter} s)` : '';
  $('error').textContent = `${err.code ?? 'ERROR'}: ${err.message}${fields ? ` (${fields})` : ''}${wait}`;
}

function showBalance(money) {
  $('balance').textContent = money.amount;
  $('currency').textContent = money.currency;
}

async function loadStatement() {
  const d = await gql(STATEMENT, { first: 10 });
  const rows = d.me.customer.account.entries.edges.map(({ node }) => {
    const tr = document.createElement('tr');
    for (const text of [node.type, node.amount.amount, node.balanceAfter.amount, node.memo ?? '']) {
      const td = document.createElement('td');
      td.textContent = text; // textContent: a memo is someone else's text
      tr.append(td);
    }
    return tr;
  });
  $('statement').replaceChildren(...rows);
}

let live; // the graphql-ws client while logged in

/** watchBalance follows the main account's balance over a WebSocket, from the version shown. */
function watchBalance(version) {
  const ws = new URL('/query', api);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  live = createClient({ url: ws.href, lazy: false, retryAttempts: 5 });
  let after = version;
  live.subscribe({ query: BALANCE_CHANGED, variables: { after } }, {
    next: ({ data, errors }) => {
      if (errors?.length) return showError(new CofferError(errors[0]));
      const change = data.balanceChanged;
      if (change.account.kind !== 'MAIN') return;
      after = change.version;
      showBalance(change.balance);
      $('live').textContent = '●';
      $('live').dataset.version = String(change.version);
      loadStatement().catch(showError);
    },
    error: (err) => { $('live').textContent = '○'; showError(err instanceof Error ? err : new Error('live balance disconnected')); },
    complete: () => { $('live').textContent = '○'; },
  });
  live.on('connected', () => { $('live').textContent = '●'; });
}

async function showWallet() {
  const d = await gql(ME).catch((err) => {
    if (err.code === 'UNAUTHENTICATED') return { me: null }; // no session (yet)
    throw err;
  });
  if (!d.me?.customer) return false;
  const account = d.me.customer.account;
  $('username').textContent = d.me.username;
  $('iban').textContent = account.iban;
  showBalance(account.balance);
  await loadStatement();
  $('login').hidden = true;
  $('wallet').hidden = false;
  watchBalance(account.version);
  return true;
}

function showLogin() {
  live?.dispose();
  live = undefined;
  $('wallet').hidden = true;
  $('login').hidden = false;
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    showError(null);
    const d = await gql(LOGIN, { login: form.get('login'), password: form.get('password') });
    if (d.login.status !== 'AUTHENTICATED') throw new Error('this example does not do second factors');
    e.target.reset();
    await showWallet();
  } catch (err) { showError(err); }
});

$('send').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  // RecipientInput is @oneOf: exactly one way of naming the recipient.
  const recipient = { [form.get('way')]: form.get('to') };
  const input = { recipient, amount: form.get('amount'), memo: form.get('memo') || null,
    idempotencyKey: crypto.randomUUID() }; // a retried click cannot send twice
  try {
    showError(null);
    await gql(SEND, { input });
    e.target.reset();
    // The new balance arrives over the WebSocket; the statement follows it.
  } catch (err) { showError(err); }
});

$('logout').addEventListener('click', async () => {
  try { await gql(`mutation { logout }`); } catch (err) { showError(err); }
  showLogin();
});

// A session cookie from an earlier visit logs the page in at once.
showWallet().then((ok) => { if (!ok) showLogin(); }, (err) => { showError(err); showLogin(); });
