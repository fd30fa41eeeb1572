// The example web wallet (docs/examples/wallet) in headless Chromium, served from another origin
// than coffer (run.mjs puts it in ALLOWED_ORIGINS): same host, another port, so cross-origin but
// same-site. It logs in with the session cookie (credentials: 'include'), reads the balance and
// statement, sends coins, follows the balance live over graphql-ws, survives a reload through the
// cookie alone, and logs out; the page never holds a token.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join, dirname, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { url, adminToken, customer, gql, gqlRaw } from '../lib/coffer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, '..', 'artifacts');
mkdirSync(artifacts, { recursive: true });
const walletOrigin = process.env.COFFER_WALLET_ORIGIN;
if (!walletOrigin) throw new Error('COFFER_WALLET_ORIGIN is not set: run the suite with `node run.mjs`');

// The wallet's static files, and graphql-ws's browser client from node_modules as vendor/.
const roots = [
  ['/vendor/graphql-ws/', join(here, '..', 'node_modules', 'graphql-ws', 'dist')],
  ['/', join(here, '..', '..', 'docs', 'examples', 'wallet')],
];
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const files = createServer(async (req, res) => {
  const path = new URL(req.url, walletOrigin).pathname;
  const [prefix, dir] = roots.find(([p]) => path.startsWith(p));
  const file = normalize(join(dir, path.slice(prefix.length) || 'index.html'));
  try {
    if (!file.startsWith(dir)) throw new Error('outside');
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => files.listen(Number(new URL(walletOrigin).port), '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
after(async () => { await browser.close(); files.close(); });

test('wallet: a cross-origin SPA with cookie sessions and a live balance', async () => {
  const admin = await adminToken();
  const alice = await customer(admin, 'wallet-alice', '20.00');
  const bob = await customer(admin, 'wallet-bob', '10.00');

  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${walletOrigin}/index.html?api=${encodeURIComponent(url)}`);

  // Log in through the form: the answer sets the HttpOnly session cookie for coffer's host.
  await page.locator('#login').waitFor();
  await page.fill('input[name=login]', alice.username);
  await page.fill('input[name=password]', alice.password);
  await page.click('#login button');
  await page.locator('#wallet').waitFor();
  assert.equal(await page.textContent('#username'), alice.username);
  assert.equal(await page.textContent('#balance'), '20.00');
  assert.equal(await page.locator('#statement tr').count(), 1);
  const cookies = await context.cookies(url);
  assert.equal(cookies.find((c) => c.name === 'session')?.httpOnly, true, 'an HttpOnly session cookie');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the page cannot read the session');
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, 'the page stores nothing');

  // The live balance is connected before anything moves.
  await page.waitForFunction(() => document.getElementById('live').textContent === '●');

  // Send coins from the form; the balance and the statement follow over the WebSocket.
  await page.selectOption('select[name=way]', 'email');
  await page.fill('input[name=to]', bob.email);
  await page.fill('input[name=amount]', '5.00');
  await page.fill('input[name=memo]', 'from the wallet');
  await page.click('#send button');
  await page.waitForFunction(() => document.getElementById('balance').textContent === '15.00');
  await page.waitForFunction(() => document.getElementById('statement').textContent.includes('from the wallet'));
  assert.equal((await gql('{ me { customer { account { balance { amount } } } } }', {}, bob.token)).me.customer.account.balance.amount, '15.00');

  // Money arriving from elsewhere shows without any action on the page.
  await gql(`mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }`,
    { in: { recipient: { username: alice.username }, amount: '2.50', memo: 'from bob' } }, bob.token);
  await page.waitForFunction(() => document.getElementById('balance').textContent === '17.50');

  // A refusal shows the contract's code and fields, and moves nothing.
  await page.selectOption('select[name=way]', 'username');
  await page.fill('input[name=to]', alice.username);
  await page.fill('input[name=amount]', '1.00');
  await page.click('#send button');
  await page.waitForFunction(() => document.getElementById('error').textContent.includes('BAD_USER_INPUT'));
  assert.match(await page.textContent('#error'), /recipient/);
  await page.screenshot({ path: join(artifacts, 'wallet.png') });

  // A reload keeps the session through the cookie alone.
  await page.reload();
  await page.locator('#wallet').waitFor();
  assert.equal(await page.textContent('#balance'), '17.50');

  // Logging out revokes the session: the page shows the login form, and the cookie is gone.
  await page.click('#logout');
  await page.locator('#login').waitFor();
  assert.equal((await context.cookies(url)).find((c) => c.name === 'session'), undefined);
  assert.deepEqual(consoleErrors, []);
  await context.close();
});

test('wallet: an origin not in ALLOWED_ORIGINS gets no CORS answer and cannot use the cookie', async () => {
  const preflight = await fetch(`${url}/query`, { method: 'OPTIONS', headers: {
    origin: 'http://127.0.0.1:1', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  const allowed = await fetch(`${url}/query`, { method: 'OPTIONS', headers: {
    origin: walletOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), walletOrigin);
  assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
  assert.ok((await gqlRaw('{ __typename }')).data);
});
