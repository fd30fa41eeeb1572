// The Playground as a person uses it, in Debian's headless Chromium driven by playwright-core:
// open /, run { __typename } from the editor, log in from the editor as the README's first step
// does (the password in the Variables tab), check that the browser's storage keeps no password,
// copy the token into the Headers tab, run `me`, and keep a screenshot in e2e/artifacts/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { url, adminPassword, adminToken, customer, gql } from '../lib/coffer.mjs';
import { blocks } from '../lib/readme.mjs';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
after(() => browser.close());

/** run replaces the query editor's text as typed by a person, runs it and returns the result pane's text. */
async function run(page, query) {
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // insertText types the text at once, so CodeMirror's bracket auto-closing does not double braces.
  await page.keyboard.insertText(query);
  // GraphiQL takes the editor's text into its state after a short debounce; a person types slower.
  await page.waitForTimeout(400);
  const result = page.locator('.graphiql-response .CodeMirror');
  const previous = await result.innerText();
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction((prev) => {
    const el = document.querySelector('.graphiql-response .CodeMirror');
    return el && el.innerText !== prev && el.innerText.includes('}');
  }, previous);
  return (await result.innerText()).replace(/\u00a0/g, ' ');
}

/** setTool types text into the Variables or Headers tab, as a person pastes it. */
async function setTool(page, tab, text) {
  await page.getByRole('button', { name: tab }).click();
  const editor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').last();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  await page.waitForTimeout(400);
}

/** setHeaders types headers into the Headers tab, as a person pastes a token. */
const setHeaders = (page, headers) => setTool(page, 'Headers', JSON.stringify(headers));

/** kept is everything the page keeps in the browser's storage, as one string. */
const kept = (page) => page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));

// The README's first step: the administrator's login, with the password in its variables.
const readmeLogin = blocks(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8'))[0];

/** json reads CodeMirror's rendered text (one line per row, maybe with fold markers) as JSON. */
function json(text) {
  return JSON.parse(text.replace(/^\s*\d+\s*$/gm, '').replace(/[▾▸]/g, ''));
}

test('Playground: runs { __typename } and a logged-in me query from its editor', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(url)) external.push(r.url()); });
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });

  const schemaLoaded = page.waitForResponse((r) => r.url() === `${url}/query` && r.request().postData().includes('IntrospectionQuery'));
  const res = await page.goto(url + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  assert.equal((await schemaLoaded).status(), 200);

  const typename = await run(page, '{ __typename }');
  assert.deepEqual(json(typename), { data: { __typename: 'Query' } });

  // An older Playground kept its tabs in localStorage, password included: the page removes them.
  await page.evaluate((pw) => localStorage.setItem('graphiql:tabState', JSON.stringify({ variables: `{"password": "${pw}"}` })), adminPassword);
  await page.reload();
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  assert.ok(!(await kept(page)).includes(adminPassword), 'an older page\'s saved tabs were kept');

  assert.ok(readmeLogin.variables?.includes('coffer-admin-password'), 'the README logs in with the password in variables');
  assert.ok(!readmeLogin.text.includes('coffer-admin-password'), 'the README puts the password in the query text');
  await setTool(page, 'Variables', readmeLogin.variables.replace('coffer-admin-password', adminPassword));
  const login = json(await run(page, readmeLogin.text));
  assert.equal(login.data.login.status, 'AUTHENTICATED');
  // Nothing the person typed is in the browser's storage, and a reload forgets it.
  assert.ok(!(await kept(page)).includes(adminPassword), `the browser's storage keeps the password: ${await kept(page)}`);
  // Drop the session cookie login set, so that only the Authorization header can authenticate me.
  await page.context().clearCookies();

  await setHeaders(page, { Authorization: `Bearer ${login.data.login.auth.token}` });

  const me = await run(page, '{ me { username role } }');
  assert.deepEqual(json(me), { data: { me: { username: 'admin', role: 'ADMIN' } } });
  // What the person sees: the page's text shows the answer.
  const pageText = await page.locator('.graphiql-response').innerText();
  assert.match(pageText, /"username": "admin"/);
  await page.screenshot({ path: join(artifacts, 'playground-me.png') });

  assert.ok(!(await kept(page)).includes(adminPassword), 'the browser\'s storage keeps the password');
  await page.reload();
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  assert.ok(!(await page.locator('.graphiql-editors').innerText()).includes(adminPassword), 'the editors show the password after a reload');
  assert.ok(!(await kept(page)).includes(adminPassword), 'the browser\'s storage keeps the password after a reload');

  assert.deepEqual(external, [], 'the Playground loaded something from another host');
  assert.deepEqual(consoleErrors, [], 'the browser console reported errors (CSP?)');
});

// Needs the WebSocket transport (branch live): the Playground subscribes over the same path with
// the Headers tab's token in connection_init, shows the replayed change, then a live one.
test('Playground: a balanceChanged subscription with the token from the Headers tab', async () => {
  const admin = await adminToken();
  const payer = await customer(admin, 'pg-payer', '10.00'); // version 1
  const payee = await customer(admin, 'pg-payee');
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url + '/');
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  await setHeaders(page, { Authorization: `Bearer ${payer.token}` });
  const first = await run(page, 'subscription { balanceChanged(afterVersion: 0) { version balance { amount } } }');
  assert.deepEqual(json(first), { data: { balanceChanged: { version: 1, balance: { amount: '10.00' } } } });
  await gql('mutation($in: SendCoinsInput!) { sendCoins(input: $in) { id } }',
    { in: { recipient: { username: payee.username }, amount: '3.00' } }, payer.token);
  const pane = page.locator('.graphiql-response .CodeMirror');
  await page.waitForFunction(() => document.querySelector('.graphiql-response .CodeMirror').innerText.includes('"7.00"'), null, { timeout: 10_000 });
  assert.deepEqual(json((await pane.innerText()).replace(/\u00a0/g, ' ')), { data: { balanceChanged: { version: 2, balance: { amount: '7.00' } } } });
  await page.screenshot({ path: join(artifacts, 'playground-subscription.png') });
  await page.close();
});
