// ACL evaluation with Vault's semantics: exact paths, `*` as a trailing glob, `+` as exactly one
// segment, Vault's precedence when several patterns match, capabilities unioned across policies
// for the same pattern, `deny` over everything, and parameter constraints.
import { BadRequestError } from '../../errors';
import { parseDurationSeconds } from '../../util/duration';
import type { Operation } from '../framework';
import { type HclObject, type HclValue, parseHcl } from './hcl';
import { type ControlGroupRule, type JustificationRule, mergeControlGroup, mergeJustification, parseControlGroup, parseJustification } from './release-rules';

/** Capabilities as bits, so unions are cheap. */
export const CAPABILITY_BITS = {
  deny: 1,
  create: 2,
  read: 4,
  update: 8,
  delete: 16,
  list: 32,
  sudo: 64,
  patch: 128,
} as const;

export type Capability = keyof typeof CAPABILITY_BITS;
const CAPABILITY_NAMES = Object.keys(CAPABILITY_BITS) as Capability[];

/** One path rule of one policy, as written. */
export interface PolicyRule {
  pattern: string;
  capabilities: number;
  allowedParameters?: Record<string, unknown[]>;
  deniedParameters?: Record<string, unknown[]>;
  requiredParameters?: string[];
  minWrappingTtlSeconds?: number;
  maxWrappingTtlSeconds?: number;
  /** Leasehold: a reason the caller must give (see release-rules.ts). */
  justification?: JustificationRule;
  /** Approvals needed before the request runs (Vault Enterprise's control groups). */
  controlGroup?: ControlGroupRule;
}

/** A parsed policy: its name, text and rules. */
export interface Policy {
  name: string;
  raw: string;
  rules: PolicyRule[];
}

function asStringList(value: HclValue | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new BadRequestError(`failed to parse policy: ${what} must be a list of strings`);
  return value as string[];
}

function asParameterMap(value: HclValue | undefined, what: string): Record<string, unknown[]> | undefined {
  if (value === undefined) return undefined;
  // HCL repeated blocks can yield a list of maps; merge them.
  const maps = Array.isArray(value) ? value : [value];
  // Null prototype: a request key such as `toString` or `constructor` must never find an inherited entry.
  const out: Record<string, unknown[]> = Object.create(null);
  for (const m of maps) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new BadRequestError(`failed to parse policy: ${what} must be a map`);
    for (const [k, v] of Object.entries(m)) out[k] = Array.isArray(v) ? v : [v];
  }
  return out;
}

/** Validates and compiles policy text (HCL or JSON). */
export function parsePolicy(name: string, raw: string): Policy {
  const doc: HclObject = parseHcl(raw);
  const rules: PolicyRule[] = [];
  for (const key of Object.keys(doc)) {
    if (key !== 'path' && key !== 'name') throw new BadRequestError(`failed to parse policy: unknown key "${key}"`);
  }
  const paths = doc.path;
  if (paths !== undefined) {
    const blocks = Array.isArray(paths) ? paths : [paths];
    for (const block of blocks) {
      if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new BadRequestError('failed to parse policy: path must be a block');
      for (const [pattern, body] of Object.entries(block)) {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError(`failed to parse policy: path "${pattern}" must be a block`);
        if (pattern.length > 1024) throw new BadRequestError('failed to parse policy: path too long');
        const plusOrStarInside = pattern.slice(0, -1).includes('*');
        if (plusOrStarInside) throw new BadRequestError(`failed to parse policy: path "${pattern}": "*" is only allowed at the end`);
        let capabilities = 0;
        const caps = asStringList(body.capabilities, `path "${pattern}": capabilities`);
        for (const cap of caps) {
          const lower = cap.toLowerCase();
          // Own properties only: `constructor` or `valueOf` must be refused, not read off Object.prototype.
          const bit = Object.hasOwn(CAPABILITY_BITS, lower) ? CAPABILITY_BITS[lower as Capability] : undefined;
          if (bit === undefined) throw new BadRequestError(`failed to parse policy: path "${pattern}": invalid capability "${cap}"`);
          capabilities |= bit;
        }
        if (typeof body.policy === 'string') {
          // Legacy `policy = "write"` shorthand.
          const legacy: Record<string, number> = {
            deny: CAPABILITY_BITS.deny,
            read: CAPABILITY_BITS.read | CAPABILITY_BITS.list,
            write: CAPABILITY_BITS.create | CAPABILITY_BITS.read | CAPABILITY_BITS.update | CAPABILITY_BITS.delete | CAPABILITY_BITS.list | CAPABILITY_BITS.patch,
            sudo: 0xff & ~CAPABILITY_BITS.deny,
          };
          const bits = Object.hasOwn(legacy, body.policy) ? legacy[body.policy] : undefined;
          if (bits === undefined) throw new BadRequestError(`failed to parse policy: path "${pattern}": invalid policy "${body.policy}"`);
          capabilities |= bits;
        }
        for (const key of Object.keys(body)) {
          if (['mfa_methods', 'subscribe_event_types'].includes(key)) {
            // Enterprise constraints we do not enforce: refusing them beats silently ignoring them.
            throw new BadRequestError(`failed to parse policy: path "${pattern}": "${key}" is not supported`);
          }
          if (!['capabilities', 'policy', 'allowed_parameters', 'denied_parameters', 'required_parameters', 'min_wrapping_ttl', 'max_wrapping_ttl', 'justification', 'control_group'].includes(key)) {
            throw new BadRequestError(`failed to parse policy: path "${pattern}": unknown key "${key}"`);
          }
        }
        const wrappingTtl = (key: 'min_wrapping_ttl' | 'max_wrapping_ttl'): number | undefined => {
          if (body[key] === undefined) return undefined;
          const seconds = parseDurationSeconds(body[key]);
          if (seconds === undefined || seconds <= 0) throw new BadRequestError(`failed to parse policy: path "${pattern}": invalid ${key}`);
          return seconds;
        };
        const minWrappingTtlSeconds = wrappingTtl('min_wrapping_ttl');
        const maxWrappingTtlSeconds = wrappingTtl('max_wrapping_ttl');
        if (minWrappingTtlSeconds && maxWrappingTtlSeconds && minWrappingTtlSeconds > maxWrappingTtlSeconds) {
          throw new BadRequestError(`failed to parse policy: path "${pattern}": min_wrapping_ttl is greater than max_wrapping_ttl`);
        }
        rules.push({
          pattern,
          capabilities,
          allowedParameters: asParameterMap(body.allowed_parameters, 'allowed_parameters'),
          deniedParameters: asParameterMap(body.denied_parameters, 'denied_parameters'),
          requiredParameters: body.required_parameters === undefined ? undefined : asStringList(body.required_parameters, 'required_parameters'),
          minWrappingTtlSeconds,
          maxWrappingTtlSeconds,
          justification: parseJustification(body.justification, pattern),
          controlGroup: parseControlGroup(body.control_group, pattern),
        });
      }
    }
  }
  return { name, raw, rules };
}

/** A merged rule: the union of every policy's rule for the same pattern. */
interface MergedRule extends PolicyRule {
  kind: 'exact' | 'prefix' | 'segment';
  /** For prefix rules: the pattern without the trailing `*`. */
  prefix: string;
  /** For segment rules: split pattern. */
  segments: string[];
  /** Index of the first `+` or `*`, for precedence. */
  firstWildcard: number;
  plusCount: number;
}

function mergeParams(a: Record<string, unknown[]> | undefined, b: Record<string, unknown[]> | undefined): Record<string, unknown[]> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: Record<string, unknown[]> = Object.assign(Object.create(null), a);
  for (const [k, v] of Object.entries(b)) {
    const existing = Object.hasOwn(out, k) ? out[k] : undefined;
    // An empty list means "any value": it stays empty when unioned.
    out[k] = existing === undefined ? v : existing.length === 0 || v.length === 0 ? [] : [...existing, ...v];
  }
  return out;
}

/** Vault's precedence: returns true if `a` has lower priority than `b`. */
function lowerPriority(a: MergedRule, b: MergedRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  const aStar = a.pattern.endsWith('*');
  const bStar = b.pattern.endsWith('*');
  if (aStar !== bStar) return aStar;
  if (a.plusCount !== b.plusCount) return a.plusCount > b.plusCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length < b.pattern.length;
  return a.pattern < b.pattern;
}

/**
 * One node of the wildcard index: a trie over path segments. A rule `a/+/b*` sits at the node reached
 * by `a`, then the `+` edge, as a glob on the final segment `b`; a rule `a/+/c` sits at the node below
 * `a`, `+`, `c` as a rule ending there. Prefix rules (`a/b*`) are the same globs without `+` edges, so
 * one walk of a path's segments finds every wildcard rule that matches it, at a cost bounded by the
 * path's depth and segment lengths rather than by how many rules the policies hold.
 */
interface WildcardNode {
  /** Literal segments. Null prototype is not needed: a Map never inherits keys. */
  children: Map<string, WildcardNode>;
  /** The `+` edge: any one non-empty segment. */
  plus?: WildcardNode;
  /** A `+` rule without a trailing glob whose segments end exactly here. */
  end?: MergedRule;
  /** Rules whose final segment is a glob, keyed by that segment without its `*`. */
  globs?: Map<string, MergedRule>;
  /** The distinct key lengths of `globs`, longest first. */
  globLengths?: number[];
}

function newNode(): WildcardNode {
  return { children: new Map() };
}

function insertWildcard(root: WildcardNode, rule: MergedRule): void {
  const segments = rule.segments;
  const glob = rule.pattern.endsWith('*');
  const walked = glob ? segments.length - 1 : segments.length;
  let node = root;
  for (let i = 0; i < walked; i++) {
    const segment = segments[i] as string;
    if (segment === '+') {
      node.plus ??= newNode();
      node = node.plus;
      continue;
    }
    let child = node.children.get(segment);
    if (!child) {
      child = newNode();
      node.children.set(segment, child);
    }
    node = child;
  }
  if (!glob) {
    node.end = rule;
    return;
  }
  const literal = (segments[walked] as string).slice(0, -1);
  node.globs ??= new Map();
  node.globs.set(literal, rule);
  if (!node.globLengths?.includes(literal.length)) node.globLengths = [...(node.globLengths ?? []), literal.length].sort((a, b) => b - a);
}

/** The highest-priority wildcard rule matching `segments` below `node` (at depth `depth`), or `best`. */
function bestWildcard(node: WildcardNode, segments: string[], depth: number, best: MergedRule | undefined): MergedRule | undefined {
  if (depth === segments.length) {
    // A rule ending here matches only a path with exactly as many segments.
    if (node.end && (!best || lowerPriority(best, node.end))) best = node.end;
    return best;
  }
  const segment = segments[depth] as string;
  if (node.globs && node.globLengths) {
    // The final glob segment is a prefix of this path segment (and may swallow the rest of the path).
    for (const length of node.globLengths) {
      if (length > segment.length) continue;
      const rule = node.globs.get(length === segment.length ? segment : segment.slice(0, length));
      if (rule && (!best || lowerPriority(best, rule))) best = rule;
    }
  }
  const child = node.children.get(segment);
  if (child) best = bestWildcard(child, segments, depth + 1, best);
  if (node.plus && segment !== '') best = bestWildcard(node.plus, segments, depth + 1, best);
  return best;
}

/** Glob match for parameter values: `*` allowed at the start and/or end, as Vault. */
function valueMatches(allowed: unknown, actual: unknown): boolean {
  // A scalar the field schema parsed from text (`?version=2`, `"ttl": "60"`) is compared in its
  // canonical text form, the value the backend uses, so `"version" = ["2"]` means what it says.
  if (typeof allowed === 'string' && (typeof actual === 'number' || typeof actual === 'boolean')) return valueMatches(allowed, String(actual));
  if (typeof allowed === 'string' && typeof actual === 'string') {
    if (allowed === '*') return true;
    const starts = allowed.endsWith('*');
    const ends = allowed.startsWith('*');
    const core = allowed.slice(ends ? 1 : 0, starts ? -1 : undefined);
    if (starts && ends) return actual.includes(core);
    if (starts) return actual.startsWith(core);
    if (ends) return actual.endsWith(core);
    return actual === allowed;
  }
  return JSON.stringify(allowed) === JSON.stringify(actual);
}

/** A parameter map's own entry for `key`: never one inherited from Object.prototype. */
function ownEntry(map: Record<string, unknown[]>, key: string): unknown[] | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function valuesOf(actual: unknown): unknown[] {
  return Array.isArray(actual) ? actual : [actual];
}

/** The outcome of an ACL check. */
export interface AclDecision {
  allowed: boolean;
  /** The capabilities that applied (for sys/capabilities). */
  capabilities: number;
  isRoot: boolean;
}

/** A compiled ACL for one set of policies. Built once per policy change and reused. */
export class Acl {
  private readonly exact = new Map<string, MergedRule>();
  private readonly wildcards: MergedRule[] = [];
  /** Every wildcard rule, indexed by its segments (see WildcardNode). */
  private readonly wildcardIndex: WildcardNode = newNode();
  readonly isRoot: boolean;
  /** Whether any rule carries a release control: most ACLs have none, and skip the second lookup. */
  private hasReleaseRules = false;

  constructor(policies: Policy[], isRoot = false) {
    this.isRoot = isRoot;
    const merged = new Map<string, MergedRule>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const existing = merged.get(rule.pattern);
        if (existing) {
          existing.capabilities |= rule.capabilities;
          existing.allowedParameters = mergeParams(existing.allowedParameters, rule.allowedParameters);
          existing.deniedParameters = mergeParams(existing.deniedParameters, rule.deniedParameters);
          if (rule.requiredParameters) existing.requiredParameters = [...new Set([...(existing.requiredParameters ?? []), ...rule.requiredParameters])];
          // As Vault: the union allows the lower minimum and the higher maximum.
          if (rule.minWrappingTtlSeconds) existing.minWrappingTtlSeconds = Math.min(existing.minWrappingTtlSeconds ?? Infinity, rule.minWrappingTtlSeconds);
          if (rule.maxWrappingTtlSeconds) existing.maxWrappingTtlSeconds = Math.max(existing.maxWrappingTtlSeconds ?? 0, rule.maxWrappingTtlSeconds);
          // Release controls only ever add up: every policy's requirement applies.
          existing.justification = mergeJustification(existing.justification, rule.justification);
          existing.controlGroup = mergeControlGroup(existing.controlGroup, rule.controlGroup);
          continue;
        }
        const star = rule.pattern.endsWith('*');
        const plus = rule.pattern.split('/').filter((s) => s === '+').length;
        const positions = [rule.pattern.indexOf('+'), star ? rule.pattern.length - 1 : -1].filter((p) => p >= 0);
        merged.set(rule.pattern, {
          pattern: rule.pattern,
          capabilities: rule.capabilities,
          allowedParameters: rule.allowedParameters,
          deniedParameters: rule.deniedParameters,
          requiredParameters: rule.requiredParameters,
          minWrappingTtlSeconds: rule.minWrappingTtlSeconds,
          maxWrappingTtlSeconds: rule.maxWrappingTtlSeconds,
          justification: rule.justification,
          controlGroup: rule.controlGroup,
          kind: plus > 0 ? 'segment' : star ? 'prefix' : 'exact',
          prefix: star ? rule.pattern.slice(0, -1) : rule.pattern,
          segments: rule.pattern.split('/'),
          firstWildcard: positions.length > 0 ? Math.min(...positions) : Number.MAX_SAFE_INTEGER,
          plusCount: plus,
        });
      }
    }
    for (const rule of merged.values()) {
      if (rule.justification || rule.controlGroup) this.hasReleaseRules = true;
      if (rule.kind === 'exact') this.exact.set(rule.pattern, rule);
      else {
        this.wildcards.push(rule);
        insertWildcard(this.wildcardIndex, rule);
      }
    }
  }

  /** The rule that governs `path`: an exact match, else the highest-priority wildcard match. */
  private ruleFor(path: string): MergedRule | undefined {
    const exact = this.exact.get(path);
    if (exact) return exact;
    if (this.wildcards.length === 0) return undefined;
    return bestWildcard(this.wildcardIndex, path.split('/'), 0, undefined);
  }

  /** The pattern of the rule that governs `path` (blast radius groups what a rule reaches by it). */
  governingPattern(path: string): string | undefined {
    return this.ruleFor(path)?.pattern;
  }

  /** The release controls of the rule that governs `path` (none for root). */
  releaseRulesFor(path: string): { justification?: JustificationRule; controlGroup?: ControlGroupRule } {
    if (this.isRoot || !this.hasReleaseRules) return {};
    const rule = this.ruleFor(path);
    return rule ? { justification: rule.justification, controlGroup: rule.controlGroup } : {};
  }

  /** Every merged rule's pattern and capability bits (deny rules included), for blast radius. */
  rules(): { pattern: string; capabilities: number }[] {
    return [...this.exact.values(), ...this.wildcards].map((r) => ({ pattern: r.pattern, capabilities: r.capabilities }));
  }

  /** The capability bits for `path` (0 if none; deny clears everything). */
  capabilitiesFor(path: string): number {
    if (this.isRoot) return 0xff & ~CAPABILITY_BITS.deny;
    const rule = this.ruleFor(path);
    if (!rule || rule.capabilities & CAPABILITY_BITS.deny) return 0;
    return rule.capabilities;
  }

  /**
   * True if some non-deny rule could grant something at or below `prefix` (a mount path). Used to
   * decide whether to reveal a mount's details, as Vault's mount-access check does.
   */
  grantsAnythingUnder(prefix: string): boolean {
    if (this.isRoot) return true;
    const rules = [...this.exact.values(), ...this.wildcards];
    return rules.some((rule) => {
      if (rule.capabilities === 0 || rule.capabilities & CAPABILITY_BITS.deny) return false;
      if (rule.kind === 'exact') return rule.pattern.startsWith(prefix);
      const literal = rule.kind === 'prefix' ? rule.prefix : rule.pattern.slice(0, rule.firstWildcard);
      return literal.startsWith(prefix) || prefix.startsWith(literal);
    });
  }

  /** Decides one request: capability for the operation, `sudo` where required, parameter constraints on reads and writes. */
  allowOperation(path: string, operation: Operation, data: Record<string, unknown>, needsSudo: boolean, wrapTtlSeconds?: number): boolean {
    if (this.isRoot) return true;
    const rule = this.ruleFor(path);
    if (!rule || rule.capabilities & CAPABILITY_BITS.deny) return false;
    if (!(rule.capabilities & CAPABILITY_BITS[operation])) return false;
    if (needsSudo && !(rule.capabilities & CAPABILITY_BITS.sudo)) return false;
    // min_wrapping_ttl forces the answer to be wrapped; max_wrapping_ttl bounds how long it may wait.
    if (rule.minWrappingTtlSeconds && (wrapTtlSeconds === undefined || wrapTtlSeconds < rule.minWrappingTtlSeconds)) return false;
    if (rule.maxWrappingTtlSeconds && wrapTtlSeconds !== undefined && wrapTtlSeconds > rule.maxWrappingTtlSeconds) return false;
    // As current Vault: reads are checked too (their query parameters, e.g. KV v2's `version`).
    if (operation === 'read' || operation === 'create' || operation === 'update' || operation === 'patch') return this.parametersAllowed(rule, data);
    return true;
  }

  private parametersAllowed(rule: MergedRule, data: Record<string, unknown>): boolean {
    for (const required of rule.requiredParameters ?? []) if (!Object.hasOwn(data, required)) return false;
    const denied = rule.deniedParameters;
    if (denied) {
      const wildcard = ownEntry(denied, '*');
      if (wildcard && wildcard.length === 0 && Object.keys(data).length > 0) return false;
      for (const [key, value] of Object.entries(data)) {
        const values = ownEntry(denied, key);
        if (values === undefined) continue;
        if (values.length === 0) return false;
        if (valuesOf(value).some((v) => values.some((d) => valueMatches(d, v)))) return false;
      }
    }
    const allowed = rule.allowedParameters;
    if (allowed) {
      const wildcard = ownEntry(allowed, '*');
      for (const [key, value] of Object.entries(data)) {
        const values = ownEntry(allowed, key);
        if (values === undefined) {
          if (wildcard !== undefined) continue;
          return false;
        }
        if (values.length === 0) continue;
        if (!valuesOf(value).every((v) => values.some((a) => valueMatches(a, v)))) return false;
      }
    }
    return true;
  }
}

/** Capability names for a bit set, as sys/capabilities reports them (`deny` when empty). */
export function capabilityNames(bits: number, isRoot = false): string[] {
  if (isRoot) return ['root'];
  const names = CAPABILITY_NAMES.filter((c) => c !== 'deny' && bits & CAPABILITY_BITS[c]);
  return names.length > 0 ? names.sort() : ['deny'];
}
