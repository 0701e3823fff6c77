// Go's RFC 3339 time formats, as Vault writes them in responses and audit entries.
import { formatRfc3339, formatRfc3339Nano } from '../../src/util/time';

describe('formatRfc3339Nano', () => {
  it.each([
    [Date.UTC(2026, 0, 1), '2026-01-01T00:00:00Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 1, 500), '2026-01-01T00:00:01.5Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 1, 50), '2026-01-01T00:00:01.05Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 1, 120), '2026-01-01T00:00:01.12Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 1, 123), '2026-01-01T00:00:01.123Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 10, 0), '2026-01-01T00:00:10Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    // Six-digit years keep their seconds intact.
    [Date.UTC(10000, 0, 1, 0, 0, 0, 5), '+010000-01-01T00:00:00.005Z'],
  ])('%d -> %s', (ms, text) => {
    expect(formatRfc3339Nano(ms)).toBe(text);
  });
});

describe('formatRfc3339', () => {
  it.each([
    [Date.UTC(2026, 0, 1, 12, 30, 5, 999), '2026-01-01T12:30:05Z'],
    [Date.UTC(2026, 0, 1), '2026-01-01T00:00:00Z'],
    [Date.UTC(10000, 0, 1, 0, 0, 7, 5), '+010000-01-01T00:00:07Z'],
  ])('%d -> %s', (ms, text) => {
    expect(formatRfc3339(ms)).toBe(text);
  });
});
