// The blast radius as a picture: identity → policies → mounts → what it reaches → live credentials.
// Plain SVG laid out in columns (no script-generated styles, so it works under the strict CSP).
import type { Json } from './api';

const COL = 210;
const ROW = 30;
const W = 180;

interface Node {
  key: string;
  col: number;
  label: string;
  kind: string;
  title?: string;
}

function truncate(text: string, max = 26): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function BlastRadiusPicture({ radius }: { radius: Json }) {
  const reach = (radius.reach ?? []) as Json[];
  const leases = (radius.holds?.leases ?? []) as Json[];
  const tokens = (radius.holds?.tokens ?? []) as Json[];
  const policies = (radius.policies ?? []) as string[];
  const mounts = [...new Set(reach.map((r) => String(r.mount)))];
  const columns: Node[][] = [
    [{ key: 'id', col: 0, label: truncate(String(radius.entity?.name || 'token')), kind: 'identity', title: radius.entity?.id }],
    policies.map((p) => ({ key: `p:${p}`, col: 1, label: truncate(p), kind: 'policy' })),
    mounts.map((m) => ({ key: `m:${m}`, col: 2, label: truncate(m), kind: 'mount' })),
    reach.slice(0, 40).map((r, i) => ({ key: `r:${i}`, col: 3, label: truncate(`${r.path} (${r.targets?.count ?? 0})`, 30), kind: r.targets?.sudo ? 'sudo' : 'reach', title: `${r.path}: ${(r.capabilities ?? []).join(', ')}` })),
    [...tokens.slice(0, 20).map((t) => ({ key: `t:${t.accessor}`, col: 4, label: truncate(`token ${t.accessor}`), kind: 'credential' })), ...leases.slice(0, 30).map((l) => ({ key: `l:${l.lease_id}`, col: 4, label: truncate(String(l.username ?? l.lease_id)), kind: 'credential', title: l.lease_id }))],
  ];
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((nodes, c) => nodes.forEach((n, i) => pos.set(n.key, { x: 10 + c * COL, y: 30 + i * ROW })));
  const edges: [string, string][] = [];
  for (const p of columns[1] ?? []) edges.push(['id', p.key]);
  for (const m of columns[2] ?? []) for (const p of columns[1] ?? []) edges.push([p.key, m.key]);
  reach.slice(0, 40).forEach((r, i) => edges.push([`m:${r.mount}`, `r:${i}`]));
  for (const t of tokens.slice(0, 20)) edges.push(['id', `t:${t.accessor}`]);
  for (const l of leases.slice(0, 30)) {
    const i = reach.slice(0, 40).findIndex((r) => r.mount === l.mount);
    edges.push([i >= 0 ? `r:${i}` : `m:${l.mount}`, `l:${l.lease_id}`]);
  }
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = 40 + rows * ROW;
  if (policies.length === 0 && reach.length === 0 && tokens.length + leases.length === 0) return <p class="empty">Reaches nothing: no policy is in force and nothing is held.</p>;
  return (
    <figure class="blast">
      <svg viewBox={`0 0 ${10 + 5 * COL} ${height}`} width="100%" role="img" aria-label="Blast radius: identity, policies, mounts, reachable paths and live credentials">
        {['identity', 'policies', 'mounts', 'reaches', 'holds'].map((h, c) => <text key={h} x={10 + c * COL} y={16} class="col-head">{h}</text>)}
        {edges.map(([a, b], i) => {
          const from = pos.get(a);
          const to = pos.get(b);
          if (!from || !to) return null;
          const x1 = from.x + W;
          const y1 = from.y + 10;
          const x2 = to.x;
          const y2 = to.y + 10;
          return <path key={i} class="edge" d={`M${x1},${y1} C${x1 + 20},${y1} ${x2 - 20},${y2} ${x2},${y2}`} />;
        })}
        {columns.flat().map((n) => {
          const p = pos.get(n.key) as { x: number; y: number };
          return (
            <g key={n.key} class={`node ${n.kind}`} transform={`translate(${p.x},${p.y})`}>
              <title>{n.title ?? n.label}</title>
              <rect width={W} height={20} rx={4} />
              <text x={6} y={14}>{n.label}</text>
            </g>
          );
        })}
      </svg>
      <figcaption class="muted small">Every path is decided with the real ACL; counts in brackets are the concrete things each rule reaches now.</figcaption>
    </figure>
  );
}
