// coffer behind a real HAProxy (Debian's haproxy, deploy/haproxy.cfg as shipped) in front of two
// instances on one PostgreSQL, in production mode with TRUSTED_PROXIES naming the proxy. Clients
// are told apart by their source address: each connects from its own loopback address
// (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to lo), and HAProxy appends that address
// to X-Forwarded-For. Checked: HTTP reaches both instances, a subscription over a WebSocket gets a
// transfer made through the other instance, AUTH_RATE_LIMIT counts per real client (a client's own
// X-Forwarded-For buys nothing), and the audit log records each client's own address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer, request } from 'node:http';
import { createWriteStream, mkdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { adminToken, customer, unique } from '../lib/coffer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const artifacts = join(here, '..', 'artifacts');
const haproxyBin = process.env.HAPROXY ?? '/usr/sbin/haproxy';
const rateLimit = 2; // AUTH_RATE_LIMIT of both instances: per client address and instance
const children = [];
let proxyURL;
const servers = new Set(); // the instance names HAProxy answers in X-Coffer-Server

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** startCoffer starts one production-mode instance on the suite's database and returns its address. */
async function startCoffer(name) {
  const child = spawn(process.env.COFFER_BIN, [], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH, ADDR: '127.0.0.1:0', DATABASE_URL: process.env.COFFER_DATABASE_URL,
      TRUSTED_PROXIES: '127.0.0.1/32', AUTH_RATE_LIMIT: String(rateLimit), AUTH_ACCOUNT_RATE_LIMIT: '0',
    },
  });
  children.push(child);
  const log = createWriteStream(join(artifacts, `proxy-${name}.log`));
  child.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stderr });
    rl.on('line', (l) => {
      try { const r = JSON.parse(l); if (r.msg === 'serving') resolve(r.addr); } catch { /* not JSON */ }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} (e2e/artifacts/proxy-${name}.log)`)));
  });
}

/** call sends one HTTP request through the proxy from the source address `from`. */
function call(from, { method = 'POST', path = '/query', body, headers = {} }) {
  return new Promise((resolve, reject) => {
    const u = new URL(path, proxyURL);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      host: u.hostname, port: u.port, path: u.pathname, method, localAddress: from, agent: false,
      headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { /* the 404 page */ }
        servers.add(res.headers['x-coffer-server']);
        resolve({ status: res.statusCode, headers: res.headers, json, server: res.headers['x-coffer-server'] });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const LOGIN = 'mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { status } }';
const login = (from, who, headers) => call(from, { body: { query: LOGIN, variables: { l: who.username, p: who.password } }, headers });
const code = (r) => r.json?.errors?.[0]?.extensions?.code ?? (r.json?.data ? 'OK' : `HTTP ${r.status}`);

/** auditAddrs reads the client addresses of the audit log's rows of action for username, oldest first. */
async function auditAddrs(action, column, username) {
  const sql = `SELECT client_addr FROM audit_events WHERE action = '${action}' AND ${column} = '${username}' ORDER BY id`;
  const { stdout } = await promisify(execFile)('psql', [process.env.COFFER_DATABASE_URL, '-XAtc', sql]);
  return stdout.split('\n').filter(Boolean);
}

before(async () => {
  assert.ok(existsSync(haproxyBin), `${haproxyBin} is missing: apt-get install haproxy (.ci/test-deps)`);
  assert.ok(process.env.COFFER_BIN && process.env.COFFER_DATABASE_URL, 'run the suite with node run.mjs');
  mkdirSync(artifacts, { recursive: true });
  const [one, two, port] = await Promise.all([startCoffer('coffer1'), startCoffer('coffer2'), freePort()]);
  const haproxy = spawn(haproxyBin, ['-db', '-f', join(repo, 'deploy', 'haproxy.cfg')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, COFFER_PROXY_BIND: `127.0.0.1:${port}`, COFFER_1: one, COFFER_2: two },
  });
  children.push(haproxy);
  const log = createWriteStream(join(artifacts, 'haproxy.log'));
  haproxy.stdout.pipe(log);
  haproxy.stderr.pipe(log);
  proxyURL = `http://127.0.0.1:${port}`;
  // Until HAProxy listens and has sent a request to each instance (bounded, not timed).
  for (let i = 0; i < 200 && servers.size < 2; i++) {
    await call('127.0.0.4', { method: 'GET', path: '/healthz' }).catch(() => new Promise((r) => setTimeout(r, 50)));
  }
  servers.delete(undefined);
  assert.deepEqual([...servers].sort(), ['coffer1', 'coffer2'], 'HAProxy did not reach both instances');
});

after(async () => {
  await Promise.all(children.reverse().map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', resolve);
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  })));
});

test('HTTP through HAProxy: both instances answer, in production mode', async () => {
  const seen = new Set();
  for (let i = 0; i < 6 && seen.size < 2; i++) {
    const r = await call('127.0.0.4', { body: { query: '{ __typename }' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { data: { __typename: 'Query' } });
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    seen.add(r.server);
  }
  assert.deepEqual([...seen].sort(), ['coffer1', 'coffer2']);
  const page = await call('127.0.0.4', { method: 'GET', path: '/' });
  assert.equal(page.status, 404, 'the Playground is off outside development');
});

test('WebSocket through HAProxy: a subscription sees a transfer made through the proxy', async () => {
  const admin = await adminToken();
  const ann = await customer(admin, 'px-ann', '20.00'); // version 1: the creation
  const ben = await customer(admin, 'px-ben');
  const from = '127.0.0.5';
  class BoundSocket extends WebSocket {
    constructor(address, protocols) { super(address, protocols, { localAddress: from }); }
  }
  const client = createClient({
    url: proxyURL.replace(/^http/, 'ws') + '/query', webSocketImpl: BoundSocket, retryAttempts: 0, lazy: true,
    connectionParams: { authorization: `Bearer ${ann.token}` },
  });
  try {
    const events = [];
    let wake;
    const arrived = new Promise((resolve, reject) => { wake = { resolve, reject }; });
    const stop = client.subscribe({
      query: 'subscription($a: ID) { balanceChanged(accountId: $a, afterVersion: 1) { version balance { amount } entry { type memo } } }',
      variables: { a: ann.account.id },
    }, { next: (r) => { events.push(r); wake.resolve(); }, error: (e) => wake.reject(e), complete: () => {} });
    const sent = await call('127.0.0.6', {
      body: { query: 'mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }',
        variables: { in: { recipient: { username: ben.username }, amount: '5.00', memo: 'through the proxy' } } },
      headers: { authorization: `Bearer ${ann.token}` },
    });
    assert.equal(code(sent), 'OK', JSON.stringify(sent.json));
    await arrived;
    stop();
    assert.deepEqual(events[0].data.balanceChanged,
      { version: 2, balance: { amount: '15.00' }, entry: { type: 'SEND', memo: 'through the proxy' } });

    // An administrator's change made over a WebSocket is audited with the socket's client address.
    const adminClient = createClient({
      url: proxyURL.replace(/^http/, 'ws') + '/query', webSocketImpl: BoundSocket, retryAttempts: 0, lazy: true,
      connectionParams: { authorization: `Bearer ${admin}` },
    });
    const username = unique('px-ws');
    const created = await new Promise((resolve, reject) => {
      let result;
      adminClient.subscribe({
        query: 'mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }',
        variables: { in: { username, password: `${username}-password`, name: 'Proxy Socket', email: `${username}@example.com` } },
      }, { next: (r) => { result = r; }, error: reject, complete: () => resolve(result) });
    });
    await adminClient.dispose();
    assert.ok(created.data?.createCustomer?.id, JSON.stringify(created));
    assert.deepEqual(await auditAddrs('customer.created', 'target_name', username), [from]);
  } finally {
    await client.dispose();
  }
});

test('rate limits per real client behind HAProxy, and the audit log names each client', async (t) => {
  const admin = await adminToken();
  const carol = await customer(admin, 'px-carol');
  const [a, b] = ['127.0.0.2', '127.0.0.3'];
  // Client a logs in until each instance has refused it: each has its own budget of rateLimit
  // per address, so that is at most 2 × rateLimit successes.
  const refusedBy = new Set();
  let okA = 0;
  for (let i = 0; i < 4 * rateLimit + 4 && refusedBy.size < 2; i++) {
    const r = await login(a, carol);
    if (code(r) === 'OK') okA++;
    else {
      assert.equal(code(r), 'TOO_MANY_REQUESTS', JSON.stringify(r.json));
      refusedBy.add(r.server);
    }
  }
  assert.equal(refusedBy.size, 2, 'client a was not refused by both instances');
  assert.ok(okA >= rateLimit && okA <= 2 * rateLimit, `client a logged in ${okA} times`);

  // Client a writing another address into X-Forwarded-For is still client a, on both instances.
  const spoofedBy = new Set();
  for (let i = 0; i < 6 && spoofedBy.size < 2; i++) {
    const r = await login(a, carol, { 'x-forwarded-for': `203.0.113.${i + 1}` });
    assert.equal(code(r), 'TOO_MANY_REQUESTS', `a spoofed header bought a fresh budget: ${JSON.stringify(r.json)}`);
    spoofedBy.add(r.server);
  }

  // Client b, on the same proxy, still has its whole budget on both instances.
  const okBy = new Set();
  let okB = 0;
  for (let i = 0; i < 6 && okBy.size < 2; i++) {
    const r = await login(b, carol);
    assert.equal(code(r), 'OK', `client b refused after client a's budget was spent: ${JSON.stringify(r.json)}`);
    okB++;
    okBy.add(r.server);
  }
  t.diagnostic(`client a: ${okA} logins accepted, then refused by ${[...refusedBy].sort()}; spoofed headers refused by ${[...spoofedBy].sort()}; client b: ${okB} accepted by ${[...okBy].sort()}`);
  // carol's first login (by the customer helper) went to the suite's main instance from 127.0.0.1.
  assert.deepEqual(await auditAddrs('login.succeeded', 'actor_username', carol.username),
    ['127.0.0.1', ...Array(okA).fill(a), ...Array(okB).fill(b)]);
});
