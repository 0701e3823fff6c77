// Small shared pieces: loading/error states, times, a paged table, buttons that show progress.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status === 403 ? `permission denied${error.errors.length ? `: ${error.message}` : ''}` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Runs `load` on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { value?: T; error?: string; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ value?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => live && setState({ value, loading: false }),
      (error) => live && setState({ error: errorText(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function ErrorBox({ error }: { error?: string }) {
  if (!error) return null;
  return <p class="error" role="alert">{error}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function relative(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const ms = Date.parse(iso) - Date.now();
  const abs = Math.abs(ms);
  const unit = abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3600_000 ? `${Math.round(abs / 60_000)}m` : abs < 86400_000 ? `${Math.round(abs / 3600_000)}h` : `${Math.round(abs / 86400_000)}d`;
  return ms >= 0 ? `in ${unit}` : `${unit} ago`;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time dateTime={iso} title={iso}>{relative(iso)}</time>;
}

/** A button that runs an action, disables itself meanwhile and reports the outcome. */
export function Action({ label, run, danger, confirm, onDone }: { label: string; run: () => Promise<unknown>; danger?: boolean; confirm?: string; onDone?: (error?: string) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={danger ? 'danger' : ''}
      disabled={busy}
      onClick={async () => {
        if (confirm && !window.confirm(confirm)) return;
        setBusy(true);
        try {
          await run();
          onDone?.();
        } catch (error) {
          onDone?.(errorText(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? `${label}…` : label}
    </button>
  );
}

export function Card({ title, value, hint, warn }: { title: string; value: ComponentChildren; hint?: string; warn?: boolean }) {
  return (
    <div class={`card${warn ? ' warn' : ''}`}>
      <div class="card-title">{title}</div>
      <div class="card-value">{value}</div>
      {hint && <div class="muted small">{hint}</div>}
    </div>
  );
}
