// The database plugin contract, after Vault's dbplugin v5: one request object in, one response object out
// per lifecycle step. The engine only ever talks to a plugin through this interface.

/** Statements for one lifecycle step; an empty list means "the plugin's defaults". */
export interface Statements {
  commands: string[];
}

/** initialize: validate and take the connection configuration; optionally prove it connects. */
export interface InitializeRequest {
  /** The connection details as configured (connection_url, username, password, pool settings, ...). */
  config: Record<string, unknown>;
  /** Connect now and fail if the database cannot be reached with this configuration. */
  verifyConnection: boolean;
}

/** The configuration the plugin will use (normalised, defaults filled in); the engine stores it. */
export interface InitializeResponse {
  config: Record<string, unknown>;
}

/** newUser: create a dynamic user that expires at `expiration` (the lease's expiry). */
export interface NewUserRequest {
  usernameConfig: { displayName: string; roleName: string };
  statements: Statements;
  /** Rolled back by the plugin when a creation statement fails part way. */
  rollbackStatements?: Statements;
  password: string;
  expiration: Date;
  /**
   * Called with the generated username before anything is created; the user is created only after it
   * resolves (and not at all if it throws). The engine records the pending lease here, so a crash
   * after creation never leaves a user no lease accounts for.
   */
  beforeCreate?: (username: string) => void | Promise<void>;
}

/** The username the plugin generated (the engine never chooses it). */
export interface NewUserResponse {
  username: string;
}

/** updateUser: change a user's password and/or expiry. Root rotation is updateUser on the vault's own login. */
export interface UpdateUserRequest {
  username: string;
  password?: { newPassword: string; statements: Statements };
  expiration?: { newExpiration: Date; statements: Statements };
}

/** Nothing to report; failure is an exception. */
export type UpdateUserResponse = Record<string, never>;

/** deleteUser: revoke a user. Must succeed if the user is already gone (revocation is retried). */
export interface DeleteUserRequest {
  username: string;
  statements: Statements;
}

/** Nothing to report; failure is an exception. */
export type DeleteUserResponse = Record<string, never>;

/**
 * Leasehold extension for drift checks: the users in the database that look like this plugin generated
 * them (their name starts with the username template's fixed prefix), superusers excluded.
 */
export interface ListManagedUsersResponse {
  /** The prefix searched; empty when the template has no fixed prefix (then nothing is listed). */
  prefix: string;
  usernames: string[];
}

/** A database plugin. Each implementation proves it with `satisfies DatabasePlugin`. */
export interface DatabasePlugin {
  initialize(req: InitializeRequest): Promise<InitializeResponse>;
  newUser(req: NewUserRequest): Promise<NewUserResponse>;
  updateUser(req: UpdateUserRequest): Promise<UpdateUserResponse>;
  deleteUser(req: DeleteUserRequest): Promise<DeleteUserResponse>;
  /** Optional: users matching the generated-username prefix, for the engine's drift check. */
  listManagedUsers?(): Promise<ListManagedUsersResponse>;
  /** The plugin's type name, e.g. `postgres`. */
  type(): string;
  /** Closes every connection. The instance is not used afterwards. */
  close(): Promise<void>;
}
