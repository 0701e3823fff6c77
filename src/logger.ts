// The vault's structured logger. Redacts fields that could carry secrets even if a caller slips.
import pino from 'pino';

/** Field names whose values are never logged. */
const REDACTED_PATHS = [
  'token',
  'client_token',
  'password',
  'secret',
  'secret_id',
  'connection_url',
  'key',
  'keys',
  'root_token',
  '*.token',
  '*.password',
  '*.secret_id',
  '*.connection_url',
  'req.headers["x-vault-token"]',
  'req.headers.authorization',
];

/** The logger type used across the core; engines get a narrower interface. */
export type Logger = pino.Logger;

/** A logger writing JSON lines to stderr; `silent` for tests and embedded use. */
export function createLogger(options: { level?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.LEASEHOLD_LOG_LEVEL ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
}
