// A typed client for coffer in a few lines: each operation of operations.graphql is a
// TypedDocumentString (generated.ts), so request() knows the variables it needs and the data it
// returns. No dependencies at run time: fetch only, in browsers and Node 18+.
import type { TypedDocumentString } from './generated.js';

/** The error of a refused operation, with the contract's extensions (API.md). */
export class CofferError extends Error {
  /** extensions.code: UNAUTHENTICATED, BAD_USER_INPUT, TOO_MANY_REQUESTS, ... */
  readonly code: string;
  /** extensions.fields: input field name to message, for BAD_USER_INPUT (and CONFLICT). */
  readonly fields: Record<string, string>;
  /** extensions.retryAfter: seconds to wait, for TOO_MANY_REQUESTS. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.code = typeof extensions.code === 'string' ? extensions.code : 'INTERNAL';
    this.fields = (extensions.fields ?? {}) as Record<string, string>;
    this.retryAfterSeconds = typeof extensions.retryAfter === 'number' ? extensions.retryAfter : undefined;
  }
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. https://api.bank.example/query. */
  endpoint: string;
  /** A bearer token (mobile apps, servers); without one, a browser sends the session cookie. */
  token?: string;
  /** 'include' for a web app on another origin listed in ALLOWED_ORIGINS (cookie sessions). */
  credentials?: RequestCredentials;
}

interface Response<TResult> {
  data?: TResult | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Client runs the generated operations against one coffer. */
export class Client {
  constructor(private readonly options: ClientOptions) {}

  /** request runs one operation; it throws a CofferError on the first error of the response. */
  async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const res = await fetch(this.options.endpoint, {
      method: 'POST',
      headers,
      credentials: this.options.credentials ?? 'same-origin',
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    const body = (await res.json()) as Response<TResult>;
    const first = body.errors?.[0];
    if (first) throw new CofferError(first.message, first.extensions);
    if (body.data == null) throw new CofferError(`HTTP ${res.status} without data`);
    return body.data;
  }

  /** withToken is a client of the same endpoint that authenticates with token. */
  withToken(token: string): Client {
    return new Client({ ...this.options, token });
  }
}
