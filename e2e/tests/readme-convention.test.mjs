// The README convention's reader: which blocks are taken and which directives apply to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blocks } from '../lib/readme.mjs';

test('README convention: graphql fences only, directives from the comments right before', () => {
  const md = [
    'Intro', '',
    '<!-- as: admin -->', '<!-- expect: NOT_FOUND -->', '',
    '```graphql', '{ me { username } }', '```', '',
    '```sh', 'make run', '```',
    '<!-- validate-only -->', 'text between', '```graphql', 'mutation { a }', 'mutation { b }', '```',
    '  ```graphql', '  { x }', '  ```',
  ].join('\n');
  assert.deepEqual(blocks(md), [
    { line: 6, text: '{ me { username } }', directives: { as: 'admin', expect: 'NOT_FOUND' } },
    { line: 15, text: 'mutation { a }\nmutation { b }', directives: {} },
    { line: 19, text: '  { x }', directives: {} },
  ]);
});

test('README convention: a ```json block right after a graphql block holds its variables', () => {
  const md = [
    '```graphql', 'mutation($p: String!) { login(input: {login: "admin", password: $p}) { status } }', '```', '',
    '```json', '{"p": "coffer-admin-password"}', '```',
    '```json', '{"not": "variables"}', '```',
    '```graphql', '{ me { username } }', '```', 'text', '```json', '{}', '```',
  ].join('\n');
  assert.deepEqual(blocks(md), [
    { line: 1, text: 'mutation($p: String!) { login(input: {login: "admin", password: $p}) { status } }', directives: {},
      variables: '{"p": "coffer-admin-password"}' },
    { line: 11, text: '{ me { username } }', directives: {} },
  ]);
});
