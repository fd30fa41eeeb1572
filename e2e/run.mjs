// Runs coffer's end-to-end suite: builds the server, starts a throwaway PostgreSQL (the Go tests'
// graph/pgtest, through `server/e2eenv`), starts the built server on a free port with
// ADMIN_PASSWORD, OUTBOX_FILE, DEV=1 and AUTH_RATE_LIMIT=0, then runs `node --test` on
// tests/*.test.mjs (or the files given as arguments) with the server's address in COFFER_URL
// (and the binary and database in COFFER_BIN and COFFER_DATABASE_URL), and stops everything
// afterwards. Usage: `node run.mjs [tests/x.test.mjs ...]` (make test runs it).
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, mkdirSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const tmp = mkdtempSync(join(tmpdir(), 'coffer-e2e-'));
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const adminPassword = 'e2e-admin-password';
const children = [];

function firstLine(stream, match, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs} ms`)), timeoutMs);
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => {
      const m = match(line);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    rl.on('close', () => { clearTimeout(timer); reject(new Error(`${what}: exited before it was ready`)); });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** freePort returns a TCP port of 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function main() {
  const started = Date.now();
  const build = (out, pkg) => promisify(execFile)('go', ['build', '-o', out, pkg], { cwd: repo });
  const server = join(tmp, 'coffer');
  const env = join(tmp, 'e2eenv');
  await Promise.all([build(server, './server'), build(env, './server/e2eenv')]);
  console.log(`# built the server in ${Date.now() - started} ms`);

  // e2eenv holds the cluster for as long as its stdin stays open.
  const pg = spawn(env, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(pg);
  const databaseURL = await firstLine(pg.stdout, (l) => l.startsWith('postgres://') && l, 'e2eenv', 60_000);

  // The example web wallet's origin (tests/wallet.test.mjs serves it there): the same host on
  // another port, cross-origin but same-site, so the session cookie (SameSite=Lax) goes along.
  const walletOrigin = `http://127.0.0.1:${await freePort()}`;
  const outbox = join(tmp, 'outbox.jsonl');
  const log = createWriteStream(join(artifacts, 'server.log'));
  const coffer = spawn(server, [], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: {
      ...process.env, ADDR: '127.0.0.1:0', DATABASE_URL: databaseURL, ADMIN_PASSWORD: adminPassword,
      OUTBOX_FILE: outbox, DEV: '1', AUTH_RATE_LIMIT: '0', AUTH_ACCOUNT_RATE_LIMIT: '0',
      ALLOWED_ORIGINS: walletOrigin,
    },
  });
  children.push(coffer);
  coffer.stderr.pipe(log);
  const addr = await firstLine(coffer.stderr, (l) => {
    try { const r = JSON.parse(l); return r.msg === 'serving' && r.addr; } catch { return false; }
  }, 'coffer', 60_000);
  const url = `http://${addr}`;
  console.log(`# coffer serves ${url} on PostgreSQL (log: e2e/artifacts/server.log)`);

  const files = process.argv.slice(2).length ? process.argv.slice(2)
    : readdirSync(join(here, 'tests')).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join('tests', f));
  const tests = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
    cwd: here, stdio: 'inherit',
    env: {
      ...process.env, COFFER_URL: url, COFFER_OUTBOX: outbox, COFFER_ADMIN_PASSWORD: adminPassword,
      COFFER_WALLET_ORIGIN: walletOrigin,
      // For tests that start more instances on the same database (tests/proxy.test.mjs).
      COFFER_BIN: server, COFFER_DATABASE_URL: databaseURL,
    },
  });
  const code = await new Promise((resolve) => tests.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  console.log(`# e2e suite finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('e2e:', err.message);
} finally {
  for (const c of children.reverse()) {
    if (c.stdin) c.stdin.end();
    await stop(c);
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
