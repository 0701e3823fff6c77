// The server's listen address: `PORT`, `:PORT` or `HOST:PORT` (`[v6]:PORT`), as `vault server`
// users type it. Anything else is refused with a message saying what is accepted, rather than
// guessed at (a bare `18350` used to be taken as a host and bound as 0.0.71.174).

const USAGE = 'expected PORT, :PORT or HOST:PORT (for example 8200, :8200 or 127.0.0.1:8200)';
const DEFAULT_HOST = '127.0.0.1';

function port(text: string, listen: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`invalid listen address "${listen}": ${USAGE}`);
  const value = Number(text);
  if (value > 65535) throw new Error(`invalid listen address "${listen}": port must be between 0 and 65535`);
  return value;
}

/** Parses a listen address; a missing host is 127.0.0.1 (local only, as Vault's default listener). Throws with a clear message otherwise. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const text = listen.trim();
  if (/^\d+$/.test(text)) return { host: DEFAULT_HOST, port: port(text, listen) };
  const v6 = /^\[([0-9A-Fa-f:.%\w]+)\]:([^:]*)$/.exec(text);
  if (v6) return { host: v6[1] as string, port: port(v6[2] as string, listen) };
  const i = text.lastIndexOf(':');
  if (i < 0) throw new Error(`invalid listen address "${listen}": ${USAGE}`);
  const host = text.slice(0, i);
  if (host !== '' && !/^[A-Za-z0-9.-]+$/.test(host)) throw new Error(`invalid listen address "${listen}": ${USAGE}`);
  return { host: host || DEFAULT_HOST, port: port(text.slice(i + 1), listen) };
}
