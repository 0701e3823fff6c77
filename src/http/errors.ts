// The one place errors become HTTP responses. Unknown errors are a generic 500 plus a full log line.
import { BarrierIntegrityError, VaultError } from '../errors';
import { envelope } from '../core/envelope';
import type { Logger } from '../logger';
import { countStorageFull, isStorageFull, STORAGE_FULL_MESSAGE } from '../storage/storage-full';

/** An HTTP status and JSON body for any thrown value. Never includes an unknown error's message. */
export function errorToResponse(error: unknown, requestId: string, logger: Logger): { statusCode: number; body: unknown } {
  if (error instanceof VaultError) {
    if (error.statusCode === 404 && (error.extra.data || error.extra.warnings)) {
      return { statusCode: 404, body: envelope({ request_id: requestId, data: error.extra.data ?? null, warnings: error.extra.warnings }) };
    }
    if (error.statusCode >= 500) logger.warn({ requestId, status: error.statusCode, err: error.message }, 'request failed');
    return { statusCode: error.statusCode, body: { errors: error.message === '' ? [] : [error.message] } };
  }
  if (error instanceof BarrierIntegrityError) {
    logger.error({ requestId, location: error.location }, 'barrier integrity failure: a stored record did not authenticate');
    return { statusCode: 500, body: { errors: ['internal error'] } };
  }
  if (isStorageFull(error)) {
    countStorageFull();
    logger.error({ requestId }, 'a write was refused: the storage is full');
    return { statusCode: 503, body: { errors: [STORAGE_FULL_MESSAGE] } };
  }
  logger.error({ requestId, err: error }, 'unhandled error');
  return { statusCode: 500, body: { errors: ['internal error'] } };
}
