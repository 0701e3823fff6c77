// `policy fmt`: an ACL policy rewritten in canonical HCL, from the document the policy parser reads.
import { parsePolicy } from '../core/policy/acl';
import { type HclObject, type HclValue, parseHcl } from '../core/policy/hcl';

const INDENT = '  ';

function isObject(value: HclValue): value is HclObject {
  return typeof value === 'object' && !Array.isArray(value);
}

/** An identifier HCL accepts bare as a key; anything else is quoted. */
function hclKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : hclString(key);
}

function hclString(text: string): string {
  return JSON.stringify(text);
}

function hclValue(value: HclValue, indent: string): string {
  if (typeof value === 'string') return hclString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.every((item) => !isObject(item) && !Array.isArray(item))) return `[${value.map((item) => hclValue(item, indent)).join(', ')}]`;
    return `[\n${value.map((item) => `${indent}${INDENT}${hclValue(item, indent + INDENT)},`).join('\n')}\n${indent}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return '{}';
  return `{\n${attributes(value, indent + INDENT).join('\n')}\n${indent}}`;
}

/** `key = value` lines, their equal signs aligned as `hclfmt` aligns them. */
function attributes(object: HclObject, indent: string): string[] {
  const keys = Object.keys(object).map((key) => [key, hclKey(key)] as const);
  const width = keys.reduce((longest, [, shown]) => Math.max(longest, shown.length), 0);
  return keys.map(([key, shown]) => `${indent}${shown.padEnd(width)} = ${hclValue(object[key] as HclValue, indent)}`);
}

/** A top-level entry: `path "label" { ... }` blocks for labelled blocks, else an attribute. */
function topLevel(key: string, value: HclValue): string[] {
  const blocks = Array.isArray(value) && value.every(isObject) ? value : [value];
  if (!blocks.every((block) => isObject(block) && Object.keys(block).length > 0 && Object.values(block).every(isObject))) {
    return [attributes({ [key]: value }, '').join('\n')];
  }
  return (blocks as HclObject[]).flatMap((block) =>
    Object.entries(block).map(([label, body]) => {
      const lines = attributes(body as HclObject, INDENT);
      return lines.length === 0 ? `${hclKey(key)} ${hclString(label)} {}` : `${hclKey(key)} ${hclString(label)} {\n${lines.join('\n')}\n}`;
    }),
  );
}

/**
 * The policy text formatted: validated as a policy first (so an invalid one is refused with the
 * parser's message), then printed block by block in the order written. Comments are not kept.
 */
export function formatPolicy(text: string): string {
  parsePolicy('fmt', text);
  const doc = parseHcl(text);
  const formatted = `${Object.entries(doc)
    .flatMap(([key, value]) => topLevel(key, value))
    .join('\n\n')}\n`;
  if (JSON.stringify(parseHcl(formatted)) !== JSON.stringify(doc)) throw new Error('internal: the formatted policy does not parse to the same document');
  return formatted;
}
