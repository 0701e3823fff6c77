// What the request pipeline hands the audit broker: raw values in, hashed JSON lines out.
// Tokens and accessors arrive in plaintext; only the broker decides what reaches a log and how.

/** The caller's token, as Vault records it in an entry's `auth` block. */
export interface AuditAuthInput {
  displayName: string;
  policies: string[];
  metadata: Record<string, string>;
  /** The token's accessor (hashed unless `hmac_accessor=false` or `log_raw`). */
  accessor: string;
  /** `service`, `batch`, ... */
  tokenType: string;
  tokenTtlSeconds: number;
  /** When the token was issued: a Date, epoch milliseconds, or an ISO 8601 string. */
  tokenIssueTime: Date | number | string;
  entityId?: string;
}

/** One request, before the backend runs. Logged as a `request` entry. */
export interface AuditRequestInput {
  requestId: string;
  /** Vault's logical operation: read, create, update, delete, list, patch. */
  operation: string;
  /** The full request path, e.g. `secret/data/app`. */
  path: string;
  mountType: string;
  mountAccessor: string;
  /** The mount's path, e.g. `secret/`. */
  mountPoint?: string;
  /** The raw client token; the broker hashes it. */
  clientToken?: string;
  /** The raw accessor of the client token. */
  clientTokenAccessor?: string;
  /**
   * The token store's record of the client token: one object per live token for as long as the store
   * caches it. `clientToken`, `clientTokenAccessor` and `auth` must all be taken from it, so a device may
   * memoise their hashed and serialised forms against it (a WeakMap: nothing in plaintext is kept, and
   * the memo goes with the record).
   */
  callerRecord?: object;
  auth?: AuditAuthInput;
  /** The request body (or query for reads); every string is hashed unless exempted or `log_raw`. */
  data: Record<string, unknown>;
  remoteAddress: string;
  remotePort?: number;
  /** The requested response-wrapping TTL (`X-Vault-Wrap-TTL`). */
  wrapTtlSeconds?: number;
  /** The mount's `audit_non_hmac_request_keys`: top-level data keys logged in plaintext. */
  nonHmacRequestKeys?: readonly string[];
  /** An error already known when the request entry is written (e.g. permission denied). */
  error?: string;
  /** Leasehold: the caller's reason (`X-Leasehold-Justification` or its login's), logged as given. */
  justification?: string;
}

/** A token minted by the response (login, token create), as the response's `auth` block. */
export interface AuditResponseAuthInput {
  /** The raw new token; the broker hashes it. */
  clientToken: string;
  accessor: string;
  policies: string[];
  metadata: Record<string, string>;
  displayName: string;
  leaseDurationSeconds: number;
  renewable: boolean;
  tokenType: string;
  numUses: number;
  entityId?: string;
}

/** A wrapped response's wrapping token. */
export interface AuditWrapInfoInput {
  /** The raw wrapping token; the broker hashes it. */
  token: string;
  accessor: string;
  ttlSeconds: number;
  /** A Date, epoch milliseconds, or an ISO 8601 string. */
  creationTime: Date | number | string;
  creationPath: string;
}

/** What the backend answered. */
export interface AuditResponseBody {
  mountType: string;
  mountAccessor?: string;
  mountPoint?: string;
  data?: Record<string, unknown>;
  secret?: { leaseId: string };
  auth?: AuditResponseAuthInput;
  wrapInfo?: AuditWrapInfoInput;
  warnings?: string[];
}

/** One request with its outcome, after the backend ran (or failed). Logged as a `response` entry. */
export interface AuditResponseInput extends AuditRequestInput {
  response?: AuditResponseBody;
  /** The mount's `audit_non_hmac_response_keys`. */
  nonHmacResponseKeys?: readonly string[];
}
