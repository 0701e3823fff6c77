// Go's strconv.ParseBool, which Vault uses for flags such as `?list=`: hvac and Ansible send `list=True`.
import { BadRequestError } from '../errors';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Parses `value` as Go's ParseBool does; 400 naming `name` for anything else. */
export function parseGoBool(name: string, value: unknown): boolean {
  if (typeof value === 'string') {
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
  }
  throw new BadRequestError(`invalid value for parameter "${name}": must be a boolean`);
}
