/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** The direction of a statement line. */
export type EntryType =
  /** Money minted to this account. */
  | 'CREATION'
  /** Money that arrived in this account. */
  | 'RECEIVE'
  /** Money that left this account. */
  | 'SEND';

/** How far a login got. */
export type LoginStatus =
  /** Logged in: auth holds the session. */
  | 'AUTHENTICATED'
  /** A code was sent: confirm it with confirmLogin(challengeId, code). */
  | 'SECOND_FACTOR_REQUIRED';

/** Names a customer in exactly one way: give exactly one field, not null and not empty. */
export type RecipientInput =
  {   /** The customer's e-mail address. */
  email: string; iban?: never; publicKey?: never; username?: never; }
  |  { email?: never;   /** The IBAN of the customer's main account. */
  iban: string; publicKey?: never; username?: never; }
  |  { email?: never; iban?: never;   /** The customer's Ed25519 public key (hex). */
  publicKey: string; username?: never; }
  |  { email?: never; iban?: never; publicKey?: never;   /** The customer's username. */
  username: string; };

/** A user's role. */
export type Role =
  /** The bank's administrators. */
  | 'ADMIN'
  /** Bank customers. */
  | 'CUSTOMER'
  /** People registry clerks and API clients of the census. */
  | 'STAFF';

/** Coins sent to another customer. */
export type SendCoinsInput = {
  /** How much, positive. */
  amount: string;
  /** Post at once (true, the default), or leave the transfer pending with the funds reserved. */
  autoSign?: boolean | null | undefined;
  /** Retrying with the same key and input returns the first result. */
  idempotencyKey?: string | null | undefined;
  /** A note for both statements. */
  memo?: string | null | undefined;
  /** Who receives them. */
  recipient: RecipientInput;
};

/** Where a transaction stands. */
export type TransactionStatus =
  /** Funds reserved, waiting for confirmation. */
  | 'PENDING'
  /** Booked. */
  | 'POSTED'
  /** Cancelled; the reservation was released. */
  | 'VOIDED';

export type LoginMutationVariables = Exact<{
  login: string;
  password: string;
}>;


export type LoginMutation = { login: { status: LoginStatus, challengeId: string | null, auth: { token: string, expiresAt: string, user: { username: string, role: Role } } | null } };

export type LogoutMutationVariables = Exact<{ [key: string]: never; }>;


export type LogoutMutation = { logout: boolean };

export type BalanceQueryVariables = Exact<{ [key: string]: never; }>;


export type BalanceQuery = { me: { username: string, customer: { account: { id: string, iban: string | null, version: number, balance: { amount: string, currency: string } } } | null } | null };

export type StatementQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type StatementQuery = { me: { customer: { account: { entries: { edges: Array<{ node: { id: string, type: EntryType, memo: string | null, amount: { amount: string }, balanceAfter: { amount: string } } | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } } | null } | null };

export type SendCoinsMutationVariables = Exact<{
  input: SendCoinsInput;
}>;


export type SendCoinsMutation = { sendCoins: { id: string, status: TransactionStatus, amount: { amount: string, currency: string } } };

export type BalanceChangedSubscriptionVariables = Exact<{
  afterVersion?: number | null | undefined;
}>;


export type BalanceChangedSubscription = { balanceChanged: { version: number, balance: { amount: string, currency: string } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const LoginDocument = new TypedDocumentString(`
    mutation Login($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) {
    status
    challengeId
    auth {
      token
      expiresAt
      user {
        username
        role
      }
    }
  }
}
    `) as unknown as TypedDocumentString<LoginMutation, LoginMutationVariables>;
export const LogoutDocument = new TypedDocumentString(`
    mutation Logout {
  logout
}
    `) as unknown as TypedDocumentString<LogoutMutation, LogoutMutationVariables>;
export const BalanceDocument = new TypedDocumentString(`
    query Balance {
  me {
    username
    customer {
      account {
        id
        iban
        version
        balance {
          amount
          currency
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<BalanceQuery, BalanceQueryVariables>;
export const StatementDocument = new TypedDocumentString(`
    query Statement($first: Int!, $after: Cursor) {
  me {
    customer {
      account {
        entries(first: $first, after: $after) {
          edges {
            node {
              id
              type
              amount {
                amount
              }
              balanceAfter {
                amount
              }
              memo
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<StatementQuery, StatementQueryVariables>;
export const SendCoinsDocument = new TypedDocumentString(`
    mutation SendCoins($input: SendCoinsInput!) {
  sendCoins(input: $input) {
    id
    status
    amount {
      amount
      currency
    }
  }
}
    `) as unknown as TypedDocumentString<SendCoinsMutation, SendCoinsMutationVariables>;
export const BalanceChangedDocument = new TypedDocumentString(`
    subscription BalanceChanged($afterVersion: Int) {
  balanceChanged(afterVersion: $afterVersion) {
    version
    balance {
      amount
      currency
    }
  }
}
    `) as unknown as TypedDocumentString<BalanceChangedSubscription, BalanceChangedSubscriptionVariables>;