// Typed errors for the whole vault, mapped to HTTP in exactly one place (http/errors.ts).
// A message here reaches the client: never put a secret, token, key or connection string in one.

/** Base class: every error a client may see carries its HTTP status and a safe message. */
export class VaultError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: { warnings?: string[]; data?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or names an invalid field value. */
export class BadRequestError extends VaultError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 403: missing, invalid or insufficient token. Vault answers all three identically. */
export class PermissionDeniedError extends VaultError {
  constructor(message = 'permission denied') {
    super(403, message);
  }
}

/** 404: nothing at this path. An empty message yields Vault's `{"errors":[]}`. */
export class NotFoundError extends VaultError {
  constructor(message = '', data?: Record<string, unknown>) {
    super(404, message, data ? { data } : {});
  }
}

/** 405: the path exists but does not support the operation. */
export class UnsupportedOperationError extends VaultError {
  constructor(message = 'unsupported operation') {
    super(405, message);
  }
}

/** 413: the request body is larger than allowed. */
export class PayloadTooLargeError extends VaultError {
  constructor(message = 'request body too large') {
    super(413, message);
  }
}

/** 415: PATCH without `application/merge-patch+json`. */
export class UnsupportedMediaTypeError extends VaultError {
  constructor(message: string) {
    super(415, message);
  }
}

/** 429: rate limited or a resource is exhausted. */
export class TooManyRequestsError extends VaultError {
  constructor(message: string) {
    super(429, message);
  }
}

/** 503: the vault is sealed (or in standby). */
export class SealedError extends VaultError {
  constructor(message = 'Vault is sealed') {
    super(503, message);
  }
}

/** 500 with a message that is safe to show (known internal condition). */
export class InternalError extends VaultError {
  constructor(message = 'internal error') {
    super(500, message);
  }
}

/** A ciphertext did not authenticate: the barrier fails closed. Never shown with details. */
export class BarrierIntegrityError extends Error {
  constructor(readonly location: string) {
    super(`barrier: record at ${location} failed authentication`);
    this.name = 'BarrierIntegrityError';
  }
}
