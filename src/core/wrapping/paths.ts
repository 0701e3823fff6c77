// The sys/wrapping/* endpoints (wrap, unwrap, lookup, rewrap) and the built-in `response-wrapping` policy.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import { envelope } from '../envelope';
import { str } from '../fields';
import type { BackendRequest, BackendResponse, PathDefinition } from '../framework';
import { INVALID_WRAPPING_TOKEN_MESSAGE, RESPONSE_WRAPPING_POLICY_NAME, type WrapInfo, type WrappingManager } from './manager';

/**
 * The built-in policy of every wrapping token: it may unwrap, look up or rewrap itself and nothing
 * else (no cubbyhole, no token self-service). Immutable; the policy store serves it under
 * RESPONSE_WRAPPING_POLICY_NAME.
 */
export const RESPONSE_WRAPPING_POLICY = `# Built-in policy of response-wrapping tokens.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

path "sys/wrapping/rewrap" {
    capabilities = ["update"]
}
`;

/** Paths (full, as routed) whose response only makes sense wrapped: Vault refuses them without a wrap TTL. */
export const WRAP_REQUIRED_PATHS: ReadonlySet<string> = new Set(['sys/wrapping/wrap']);

/**
 * For the core, before dispatch: refuses a request to a WRAP_REQUIRED_PATHS path that did not ask for
 * wrapping, with Vault's message. `wrapTtlSeconds` is the parsed X-Vault-Wrap-TTL, undefined if absent.
 */
export function requireWrapTtl(path: string, wrapTtlSeconds: number | undefined): void {
  if (WRAP_REQUIRED_PATHS.has(path) && (wrapTtlSeconds === undefined || wrapTtlSeconds <= 0)) {
    throw new BadRequestError('endpoint requires response wrapping to be used');
  }
}

const tokenFields = z.object({
  token: str(512).optional().describe('The wrapping token. When omitted, the client token is taken to be the wrapping token.'),
});

type TokenFields = z.infer<typeof tokenFields>;

/** A raw 200 with a body, or 204 when the wrapped response had nothing to say. */
function rawBody(body: Record<string, unknown>): BackendResponse {
  return Object.keys(body).length === 0 ? { raw: { statusCode: 204, body: undefined } } : { raw: { statusCode: 200, body } };
}

/**
 * Runs `byToken` for a wrapping token given in the body (third party), else `byCaller` for the
 * authenticated client token, which the pipeline has already spent: it can only be found by accessor.
 */
function withWrappingToken<T>(
  req: BackendRequest<TokenFields>,
  byToken: (token: string) => T,
  byCaller: (caller: { accessor: string; policies: string[] }) => T,
): T {
  const token = req.fields.token;
  if (token) return byToken(token);
  if (req.identity) return byCaller({ accessor: req.identity.accessor, policies: req.identity.policies });
  if (req.clientToken) return byToken(req.clientToken);
  throw new BadRequestError(INVALID_WRAPPING_TOKEN_MESSAGE);
}

/** The sys/wrapping/* paths, relative to `sys/`, over one WrappingManager. */
export function wrappingPaths(manager: WrappingManager): PathDefinition[] {
  const wrap: PathDefinition = {
    pattern: 'wrapping/wrap',
    acceptsAnyFields: true,
    operations: {
      // The body itself is the response. The core sees X-Vault-Wrap-TTL (this backend does not), refuses
      // the request without it (requireWrapTtl), and its generic response wrapping stores this answer
      // under a new wrapping token and sends wrap_info instead: nothing here ever returns the data unwrapped.
      update: (req): BackendResponse => ({ data: { ...req.rawData } }),
    },
    description: 'Wraps the request body in a single-use response-wrapping token (needs X-Vault-Wrap-TTL).',
  };

  const unwrap: PathDefinition<TokenFields> = {
    pattern: 'wrapping/unwrap',
    fields: tokenFields,
    operations: {
      update: (req) => rawBody(withWrappingToken(req, (t) => manager.unwrap(t), (c) => manager.unwrapAsCaller(c))),
    },
    description: 'Returns the original response inside a wrapping token, once; the token is revoked.',
  };

  const lookupHandler = (req: BackendRequest<TokenFields>): BackendResponse => {
    const token = req.fields.token || req.clientToken;
    if (!token) throw new BadRequestError('missing "token" value in input');
    return { data: manager.lookup(token) };
  };

  const lookup: PathDefinition<TokenFields> = {
    pattern: 'wrapping/lookup',
    fields: tokenFields,
    // Vault lets anyone holding a wrapping token inspect it without another token.
    unauthenticated: true,
    operations: { read: lookupHandler, update: lookupHandler },
    description: "Returns a wrapping token's creation path, time and TTL without consuming it.",
  };

  const rewrap: PathDefinition<TokenFields> = {
    pattern: 'wrapping/rewrap',
    fields: tokenFields,
    operations: {
      update: (req): BackendResponse => {
        const wrapInfo: WrapInfo = withWrappingToken(req, (t) => manager.rewrap(t), (c) => manager.rewrapAsCaller(c));
        return { raw: { statusCode: 200, body: envelope({ request_id: req.requestId, wrap_info: wrapInfo }) } };
      },
    },
    description: 'Moves a wrapped response to a new wrapping token with the same creation TTL; the old token is revoked.',
  };

  return [wrap, unwrap, lookup, rewrap];
}

/** Re-exported so the policy store can register the built-in under its name from one import. */
export { RESPONSE_WRAPPING_POLICY_NAME };
