// Bounded zod field builders specific to the JWT auth method (signed leeway durations, bound claims).
import { z } from 'zod';
import { signedDurationSeconds } from '../../core/fields';

const MAX_LEEWAY_SECONDS = 365 * 86400;

/** Most bound claims on one role, and most values per claim. */
export const MAX_BOUND_CLAIMS = 64;
const MAX_BOUND_VALUES = 256;
/** Most run_claims on one role (a CI run is named by a handful of claims). */
export const MAX_RUN_CLAIMS = 8;

/**
 * A leeway as Vault's TypeSignedDurationSecond: seconds or a duration string, where a negative value ("-1", -1)
 * switches the leeway off and 0 means "Vault's default".
 */
export const leewaySeconds = () => signedDurationSeconds(MAX_LEEWAY_SECONDS, 'must be a duration such as 60, 150s or -1');

/** bound_claims: claim name (or JSON pointer) to one accepted value or a list of them. */
export const boundClaims = () =>
  z
    .record(z.string().min(1).max(256), z.union([z.string().max(1024), z.array(z.string().max(1024)).min(1).max(MAX_BOUND_VALUES)]))
    .refine((m) => Object.keys(m).length <= MAX_BOUND_CLAIMS, `at most ${MAX_BOUND_CLAIMS} bound claims`);
