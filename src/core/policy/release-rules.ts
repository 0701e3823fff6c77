// Leasehold's release controls on a policy rule: `justification { required, pattern }` and Vault
// Enterprise's `control_group { ttl, factor "name" { identity { group_names, approvals } } }`.
// Parsed and validated here so the ACL only carries them; enforced by the request pipeline.
import { BadRequestError } from '../../errors';
import { parseDurationSeconds } from '../../util/duration';
import type { HclValue } from './hcl';

/** The header a caller gives its reason in. */
export const JUSTIFICATION_HEADER = 'X-Leasehold-Justification';
/** Longest justification accepted, in characters. */
export const MAX_JUSTIFICATION_LENGTH = 512;
/** Longest justification pattern accepted in a policy. */
const MAX_PATTERN_LENGTH = 256;
/** Most repetitions in one pattern: adjacent ones backtrack polynomially, to this degree at worst. */
const MAX_REPEATS = 3;
/** Vault's default control group TTL: the wrapping token's. */
const DEFAULT_CONTROL_GROUP_TTL_SECONDS = 24 * 3600;
const MAX_CONTROL_GROUP_TTL_SECONDS = 768 * 3600;

/** A rule's justification requirement. After merging, every pattern must match. */
export interface JustificationRule {
  required: boolean;
  patterns: string[];
}

/** One approval factor: `approvals` distinct members of any of `groupNames`. */
export interface ControlGroupFactor {
  name: string;
  groupNames: string[];
  approvals: number;
}

/** A rule's control group. */
export interface ControlGroupRule {
  ttlSeconds: number;
  factors: ControlGroupFactor[];
}

function isObject(value: HclValue | undefined): value is Record<string, HclValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A single block: HCL's repeated-block arrays of one element are accepted too. */
function singleBlock(value: HclValue | undefined, what: string): Record<string, HclValue> {
  const block = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!isObject(block)) throw new BadRequestError(`failed to parse policy: ${what} must be a block`);
  return block;
}

/**
 * Refuses patterns the regular-expression engine could take exponential time on: back-references,
 * lookarounds, and a quantified group that itself contains a quantifier or an alternation
 * (`(a+)+`, `(a|a)*`). What is left backtracks at most polynomially, over at most 512 characters.
 */
export function assertSafePattern(pattern: string, where: string): void {
  const refuse = (why: string): never => {
    throw new BadRequestError(`failed to parse policy: ${where}: justification pattern ${why}`);
  };
  if (pattern.length > MAX_PATTERN_LENGTH) refuse(`is longer than ${MAX_PATTERN_LENGTH} characters`);
  try {
    new RegExp(pattern, 'u');
  } catch {
    refuse('is not a valid regular expression');
  }
  // One entry per open group: does it contain a quantifier or an alternation?
  const stack: { risky: boolean }[] = [];
  let inClass = false;
  let repeats = 0;
  const isQuantifier = (i: number) => {
    const c = pattern[i];
    return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') refuse('uses a back-reference');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) refuse('uses a lookaround');
      stack.push({ risky: false });
      // `(?:`, `(?<name>`: the `?` is the group's syntax, not a quantifier.
      if (pattern[i + 1] === '?') {
        const close = pattern[i + 2] === '<' ? pattern.indexOf('>', i) : i + 2;
        i = close < 0 ? i + 1 : close;
      }
      continue;
    }
    if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.risky = true;
      continue;
    }
    if (c === ')') {
      const group = stack.pop();
      const quantified = isQuantifier(i + 1);
      if (group?.risky && quantified) refuse('nests quantifiers or alternations inside a quantified group (catastrophic backtracking)');
      const parent = stack[stack.length - 1];
      if (parent && (quantified || group?.risky)) parent.risky = true;
      continue;
    }
    if (isQuantifier(i)) {
      const top = stack[stack.length - 1];
      if (top) top.risky = true;
      if (c !== '?' && !/^\{\d+\}/.test(pattern.slice(i))) repeats += 1;
      if (repeats > MAX_REPEATS) refuse(`has more than ${MAX_REPEATS} repetitions (*, +, {n,m}); their backtracking grows with each`);
      // A lazy or possessive marker after a quantifier is not another one.
      if (pattern[i + 1] === '?') i++;
    }
  }
}

/** Parses a rule's `justification` block. */
export function parseJustification(value: HclValue | undefined, pattern: string): JustificationRule | undefined {
  if (value === undefined) return undefined;
  const where = `path "${pattern}"`;
  const block = singleBlock(value, `${where}: justification`);
  for (const key of Object.keys(block)) {
    if (key !== 'required' && key !== 'pattern') throw new BadRequestError(`failed to parse policy: ${where}: justification: unknown key "${key}"`);
  }
  const required = block.required ?? false;
  if (typeof required !== 'boolean') throw new BadRequestError(`failed to parse policy: ${where}: justification.required must be a boolean`);
  const regex = block.pattern;
  if (regex !== undefined && typeof regex !== 'string') throw new BadRequestError(`failed to parse policy: ${where}: justification.pattern must be a string`);
  if (regex !== undefined && regex !== '') assertSafePattern(regex, where);
  return { required, patterns: regex ? [regex] : [] };
}

/** Parses a rule's `control_group` block (HCL `control_group = { ... }` or `control_group { ... }`, or JSON). */
export function parseControlGroup(value: HclValue | undefined, pattern: string): ControlGroupRule | undefined {
  if (value === undefined) return undefined;
  const where = `path "${pattern}": control_group`;
  const block = singleBlock(value, where);
  for (const key of Object.keys(block)) {
    if (key !== 'ttl' && key !== 'factor') throw new BadRequestError(`failed to parse policy: ${where}: unknown key "${key}"`);
  }
  let ttlSeconds = DEFAULT_CONTROL_GROUP_TTL_SECONDS;
  if (block.ttl !== undefined) {
    const parsed = parseDurationSeconds(block.ttl);
    if (parsed === undefined || parsed < 1 || parsed > MAX_CONTROL_GROUP_TTL_SECONDS) throw new BadRequestError(`failed to parse policy: ${where}: invalid ttl`);
    ttlSeconds = parsed;
  }
  // `factor "a" {...} factor "b" {...}` merges into one map of names; JSON may give a list of such maps.
  const factorMaps = Array.isArray(block.factor) ? block.factor : block.factor === undefined ? [] : [block.factor];
  const factors: ControlGroupFactor[] = [];
  for (const map of factorMaps) {
    if (!isObject(map)) throw new BadRequestError(`failed to parse policy: ${where}: factor must be a block`);
    for (const [name, body] of Object.entries(map)) {
      const factorWhere = `${where}: factor "${name}"`;
      const factor = singleBlock(body, factorWhere);
      for (const key of Object.keys(factor)) {
        if (key !== 'identity') throw new BadRequestError(`failed to parse policy: ${factorWhere}: unknown key "${key}"`);
      }
      const identity = singleBlock(factor.identity, `${factorWhere}: identity`);
      for (const key of Object.keys(identity)) {
        if (key !== 'group_names' && key !== 'approvals') throw new BadRequestError(`failed to parse policy: ${factorWhere}: identity: unknown key "${key}"`);
      }
      const groupNames = identity.group_names;
      if (!Array.isArray(groupNames) || groupNames.length === 0 || groupNames.some((g) => typeof g !== 'string' || g === '')) {
        throw new BadRequestError(`failed to parse policy: ${factorWhere}: identity.group_names must be a non-empty list of group names`);
      }
      const approvals = identity.approvals ?? 1;
      if (typeof approvals !== 'number' || !Number.isInteger(approvals) || approvals < 1 || approvals > 100) {
        throw new BadRequestError(`failed to parse policy: ${factorWhere}: identity.approvals must be a whole number from 1 to 100`);
      }
      factors.push({ name, groupNames: groupNames as string[], approvals });
    }
  }
  if (factors.length === 0) throw new BadRequestError(`failed to parse policy: ${where}: at least one factor is required`);
  return { ttlSeconds, factors };
}

/** The union of two rules' justification requirements: required if either requires, every pattern applies. */
export function mergeJustification(a: JustificationRule | undefined, b: JustificationRule | undefined): JustificationRule | undefined {
  if (!a) return b;
  if (!b) return a;
  return { required: a.required || b.required, patterns: [...new Set([...a.patterns, ...b.patterns])] };
}

/** The union of two control groups, as Vault merges them: every factor applies, the shorter TTL wins. */
export function mergeControlGroup(a: ControlGroupRule | undefined, b: ControlGroupRule | undefined): ControlGroupRule | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ttlSeconds: Math.min(a.ttlSeconds, b.ttlSeconds), factors: [...a.factors, ...b.factors] };
}

/** Refuses a justification longer than the bound (before anything else looks at it). */
export function boundedJustification(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (text.length > MAX_JUSTIFICATION_LENGTH) throw new BadRequestError(`the justification (${JUSTIFICATION_HEADER}) must be at most ${MAX_JUSTIFICATION_LENGTH} characters`);
  return text;
}

/** Throws a 400 naming the header and the pattern when `justification` does not satisfy `rule`. */
export function checkJustification(rule: JustificationRule | undefined, justification: string | undefined): void {
  if (!rule) return;
  const patternText = rule.patterns.length > 0 ? ` matching ${rule.patterns.map((p) => `"${p}"`).join(' and ')}` : '';
  if (justification === undefined) {
    if (rule.required) throw new BadRequestError(`this path requires a justification: set the ${JUSTIFICATION_HEADER} header (or "justification" at login)${patternText}`);
    return;
  }
  for (const pattern of rule.patterns) {
    if (!new RegExp(pattern, 'u').test(justification)) throw new BadRequestError(`the justification given in ${JUSTIFICATION_HEADER} does not match the required pattern "${pattern}"`);
  }
}
