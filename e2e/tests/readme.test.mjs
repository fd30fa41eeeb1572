// Every GraphQL snippet in README.md, then in docs/api.md (the tour goes on where the README's first
// session stops), runs as written against the server, in one session.
//
// The convention (for whoever writes README.md):
//
// 1. Blocks fenced exactly ```graphql are taken, in document order, and run one after another in
//    one session against one fresh server (admin password as in `make run`'s default is NOT
//    assumed: the string "coffer-admin-password" in a block is replaced by the server's
//    ADMIN_PASSWORD). Other fences (```sh, ```gql, ```text, ...) are ignored.
// 2. Directives go in HTML comments on the lines right before the fence (blank lines between are
//    allowed; several comments may follow each other; the rendered README does not show them):
//      <!-- as: NAME -->        run the block with NAME's token; a token it returns becomes NAME's
//      <!-- expect: CODE -->    the block must fail with extensions.code CODE (e.g. NOT_FOUND)
//      <!-- validate-only -->   a reference block (placeholders, codes from e-mails): it is parsed
//                               and validated against the server's schema, but not sent
// 3. Tokens work like the Playground's headers pane: a block without `as:` is sent with the token
//    of the block before it; a block whose answer holds a `token` field (login's auth.token,
//    confirmLogin, register) puts that token in the pane, i.e. the next blocks use it. A block that
//    runs before any login is sent without a token.
// 4. Placeholders: a string literal "<path>" is replaced by the value at that path in the latest
//    answer that had it, with aliases as written and list indexes as numbers, e.g.
//    "<createCard.card.id>", "<alice.account.iban>", "<cards.0.id>". "<code:ana@example.com>" is
//    the newest one-time code sent to that address (read from the OUTBOX_FILE) that no earlier
//    placeholder took, waiting up to 5 s for it (some messages are sent in the background). An unknown
//    placeholder fails the test with the list of known paths.
// 5. A block with several operations runs each as its own request, in order (as one would press
//    Run on each in the Playground); placeholders are filled per operation, so an operation may
//    use the answer of the one before it in the same block.
// 6. A block without `expect:` passes when its answer has no `errors`.
// 6a. A ```json block right after a ```graphql block (blank lines between) is its variables, as
//    put in the Playground's Variables tab; placeholders and "coffer-admin-password" are filled in
//    it too. Credentials are always variables: the Playground keeps no editor state, but a query
//    text with a password in it is what people copy, share and paste into history.
// 7. Subscription blocks are sent over graphql-ws (graphql-transport-ws) with the current token in
//    connection_init ({"authorization": "Bearer ..."}); the next block runs half a second after
//    the server acknowledged the connection; the subscription stays open while the blocks after
//    it run, and passes when it has received at least one event without errors by the end of the
//    README (waiting up to 5 s then). Use afterVersion to make it independent of timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print, validate, buildClientSchema, getIntrospectionQuery, Kind } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { url, gql, gqlRaw, adminPassword, lastCode } from '../lib/coffer.mjs';
import { blocks } from '../lib/readme.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The pages whose snippets run, in order, as one session.
const pages = ['README.md', 'docs/api.md'];

/** operations splits a document into one document per operation (with all fragments). */
function operations(doc) {
  const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  return doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)
    .map((op) => ({ kind: Kind.DOCUMENT, definitions: [op, ...fragments] }));
}

/** remember records every leaf of data under its dotted path. */
function remember(values, data, prefix = '') {
  if (data === null || typeof data !== 'object') {
    if (prefix) values.set(prefix, data);
    return;
  }
  for (const [k, v] of Object.entries(data)) remember(values, v, prefix ? `${prefix}.${k}` : k);
}

/** findToken returns the first string field named token in data. */
function findToken(data) {
  if (data === null || typeof data !== 'object') return undefined;
  if (typeof data.token === 'string') return data.token;
  for (const v of Object.values(data)) {
    const t = findToken(v);
    if (t) return t;
  }
  return undefined;
}

// usedCodes are the codes placeholders have taken: a "<code:...>" waits for a code it has not
// used yet, since some messages (a password reset, a self-registration) are sent in the
// background after the answer.
const usedCodes = new Set();

async function freshCode(to, where) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const code = lastCode(to);
    if (code && !usedCodes.has(code)) {
      usedCodes.add(code);
      return code;
    }
    assert.ok(Date.now() < deadline, `${where}: no new code was sent to ${to} within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fill(text, values, where) {
  const codes = new Map();
  for (const [, to] of text.matchAll(/"<code:([^">]+)>"/g)) {
    if (!codes.has(to)) codes.set(to, await freshCode(to, where));
  }
  return text.replaceAll(/"<([^">\s][^">]*)>"/g, (_, name) => {
    if (name.startsWith('code:')) return JSON.stringify(codes.get(name.slice(5)));
    assert.ok(values.has(name), `${where}: unknown placeholder "<${name}>"; known: ${[...values.keys()].join(', ')}`);
    return JSON.stringify(values.get(name));
  }).replaceAll('"coffer-admin-password"', JSON.stringify(adminPassword));
}

test('README.md and docs/api.md: every ```graphql snippet runs as written', async (t) => {
  const all = pages.flatMap((page) => {
    const found = blocks(readFileSync(join(repo, page), 'utf8')).map((b) => ({ ...b, page }));
    assert.ok(found.length > 0, `${page} has no \`\`\`graphql blocks`);
    return found;
  });
  const schema = buildClientSchema(await gql(getIntrospectionQuery()));
  const values = new Map();
  const tokens = new Map();
  const subscriptions = [];
  let current; // the token in the "headers pane"
  try {
    for (const block of all) {
      const where = `${block.page}:${block.line}`;
      let doc;
      try {
        doc = parse(block.text);
      } catch (err) {
        assert.fail(`${where}: does not parse: ${err.message}`);
      }
      for (const op of operations(doc)) {
        const errs = validate(schema, op);
        assert.deepEqual(errs.map((e) => e.message), [], `${where}: invalid against the schema`);
      }
      if (block.directives['validate-only']) {
        t.diagnostic(`${where}: validated`);
        continue;
      }
      const name = block.directives.as;
      if (name) {
        if (tokens.has(name)) current = tokens.get(name);
        else current = undefined; // NAME logs in in this block
      }
      // Placeholders are filled per operation, so a later operation of a block can use the
      // answer of an earlier one ("<registerPerson.procedure.id>").
      for (const op of operations(doc)) {
        const query = await fill(print(op), values, where);
        if (op.definitions[0].operation === 'subscription') {
          const sub = startSubscription(query, current, where);
          subscriptions.push(sub);
          await sub.ready;
          continue;
        }
        const variables = block.variables ? JSON.parse(await fill(block.variables, values, where)) : {};
        const r = await gqlRaw(query, variables, current);
        if (block.directives.expect) {
          assert.equal(r.errors?.[0]?.extensions?.code, block.directives.expect, `${where}: ${JSON.stringify(r.errors ?? r.data)}`);
        } else {
          assert.equal(r.errors, undefined, `${where}: ${JSON.stringify(r.errors)}`);
        }
        remember(values, r.data);
        const token = findToken(r.data);
        if (token) {
          current = token;
          if (name) tokens.set(name, token);
        }
      }
      t.diagnostic(`${where}: ran${name ? ` as ${name}` : ''}`);
    }
    for (const s of subscriptions) {
      // The 5 s start once every block has run: the events may come from the last blocks.
      const result = await Promise.race([s.first,
        new Promise((r) => setTimeout(() => r({ timeout: 'no event within 5 s after the last block' }), 5000).unref())]);
      assert.ok(result.data && !result.errors, `${s.where}: ${JSON.stringify(result)}`);
    }
  } finally {
    await Promise.all(subscriptions.map((s) => s.client.dispose()));
  }
});

function startSubscription(query, token, where) {
  let connected;
  const ready = new Promise((resolve) => { connected = resolve; });
  const client = createClient({
    url: url.replace(/^http/, 'ws') + '/query', webSocketImpl: WebSocket, retryAttempts: 0, lazy: false,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { connected: () => connected(), closed: () => connected(), error: () => connected() },
  });
  const first = new Promise((resolve) => {
    client.subscribe({ query }, {
      next: (r) => resolve(r),
      error: (e) => resolve({ error: e?.message ?? e?.reason ?? (Array.isArray(e) ? JSON.stringify(e) : String(e)) }),
      complete: () => resolve({ error: 'completed without an event' }),
    });
  });
  // The protocol acknowledges the connection, not the subscription: a short pause after the ack
  // lets the server register it before the next block changes a balance (a person is slower).
  return { client, first, where, ready: ready.then(() => new Promise((r) => setTimeout(r, 500))) };
}
