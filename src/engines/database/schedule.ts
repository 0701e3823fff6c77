// Five-field cron schedules for static-role rotation (Vault's rotation_schedule: the standard cron format,
// with month and weekday names and the @yearly/@monthly/@weekly/@daily/@hourly shorthands), in UTC.

/** A parsed schedule that finds its next run after a given time. */
export interface CronSchedule {
  /** The first matching minute strictly after `afterMs`. */
  next(afterMs: number): number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: string[];
  namesStart?: number;
}

const FIELDS: FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day of month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS, namesStart: 1 },
  // 7 is Sunday too, as in most crons.
  { label: 'day of week', min: 0, max: 7, names: WEEKDAYS, namesStart: 0 },
];

const MINUTE_MS = 60_000;
/** How far ahead we search before declaring a schedule impossible (e.g. 30 February). */
const SEARCH_LIMIT_MS = 5 * 366 * 86_400_000;

function fail(message: string): never {
  throw new Error(`invalid rotation_schedule: ${message}`);
}

function parseValue(text: string, spec: FieldSpec): number {
  const upper = text.toUpperCase();
  if (spec.names) {
    const index = spec.names.indexOf(upper);
    if (index >= 0) return index + (spec.namesStart ?? 0);
  }
  if (!/^\d{1,2}$/.test(text)) fail(`"${text}" is not a valid ${spec.label}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) fail(`${spec.label} ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** The set of values one field allows, and whether it was a plain `*` (for the day-of-month/weekday rule). */
function parseField(text: string, spec: FieldSpec): { values: Set<number>; any: boolean } {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') fail(`empty list item in the ${spec.label} field`);
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined) fail(`"${part}" has more than one step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) === 0) fail(`invalid step "${stepText}" in the ${spec.label} field`);
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (rangeText === '*' || rangeText === '?') {
      low = spec.min;
      high = spec.max === 7 ? 6 : spec.max;
    } else if ((rangeText as string).includes('-')) {
      const [a, b] = (rangeText as string).split('-');
      low = parseValue(a ?? '', spec);
      high = parseValue(b ?? '', spec);
      if (low > high) fail(`range ${rangeText} runs backwards`);
    } else {
      low = parseValue(rangeText as string, spec);
      high = stepText !== undefined ? (spec.max === 7 ? 6 : spec.max) : low;
    }
    for (let v = low; v <= high; v += step) values.add(spec.max === 7 && v === 7 ? 0 : v);
  }
  return { values, any: text === '*' || text === '?' };
}

/** Parses a five-field cron expression (or an @shorthand). Throws a message naming the problem. */
export function parseCronSchedule(expression: string): CronSchedule {
  const trimmed = expression.trim();
  const expanded = SHORTHANDS[trimmed.toLowerCase()] ?? trimmed;
  if (expanded.startsWith('@')) fail(`unknown shorthand ${trimmed.slice(0, 32)}`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i] as FieldSpec)) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const dayMatches = (d: Date): boolean => {
    const domOk = dom.values.has(d.getUTCDate());
    const dowOk = dow.values.has(d.getUTCDay());
    // Standard cron: when both day fields are restricted, either may match.
    if (!dom.any && !dow.any) return domOk || dowOk;
    return domOk && dowOk;
  };
  return {
    next(afterMs: number): number {
      let t = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      const limit = afterMs + SEARCH_LIMIT_MS;
      while (t <= limit) {
        const d = new Date(t);
        if (!month.values.has(d.getUTCMonth() + 1)) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
          continue;
        }
        if (!dayMatches(d)) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
          continue;
        }
        if (!hour.values.has(d.getUTCHours())) {
          t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
          continue;
        }
        if (!minute.values.has(d.getUTCMinutes())) {
          t += MINUTE_MS;
          continue;
        }
        return t;
      }
      fail('the schedule never matches a real date');
    },
  };
}
