// Go's time formats as Vault writes them, without regular expressions (some run on every request).

/** Index of the `Z` in an ISO string from Date#toISOString (`...:SS.mmmZ`, also for six-digit years). */
const zIndex = (iso: string): number => iso.length - 1;

/** Go's time.RFC3339Nano in UTC: milliseconds without trailing zeros, and no fraction at all when they are zero. */
export function formatRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  const z = zIndex(iso);
  let end = z;
  while (end > z - 3 && iso.charCodeAt(end - 1) === 48 /* '0' */) end--;
  // All three digits were zeros: drop the dot too.
  return end === z - 3 ? `${iso.slice(0, z - 4)}Z` : end === z ? iso : `${iso.slice(0, end)}Z`;
}

/** Go's time.RFC3339 in UTC: whole seconds. */
export function formatRfc3339(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, zIndex(iso) - 4)}Z`;
}
