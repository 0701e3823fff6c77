// Vault duration strings ("30s", "1h30m", "720h", plain seconds) to whole seconds.

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_RE = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Parses a duration into seconds, or returns undefined if it is not one. Negative values are refused. */
export function parseDurationSeconds(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.floor(input) : undefined;
  if (typeof input !== 'string') return undefined;
  const text = input.trim();
  if (text === '') return 0;
  if (/^\d+$/.test(text)) return Number(text);
  if (text.length > 64 || !DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(PART_RE)) total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
  return Math.floor(total);
}

/** Formats seconds as Go's time.Duration String() does ("1h0m0s", "30s"), which Vault echoes in some fields. */
export function formatDurationGo(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
