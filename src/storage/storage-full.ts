// A full disk (SQLITE_FULL) is a known condition, not an internal error: it is answered with a
// message that says so and counted, so the metrics can expose it (issue 15 item 17).

/** What a client sees when a write is refused because the storage is full. */
export const STORAGE_FULL_MESSAGE = 'storage is full: the write was not made; free space on the data directory';

const counters = { storageFull: 0 };

/** Whether `error` is SQLite reporting that the database or disk is full. */
export function isStorageFull(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'SQLITE_FULL';
}

/** Counts one refused write. */
export function countStorageFull(): void {
  counters.storageFull += 1;
}

/** Writes refused for a full storage since the process started. */
export function storageFullCount(): number {
  return counters.storageFull;
}
