// The sys/audit and sys/audit-hash endpoints, declared like any backend path so routing, field
// validation and the sudo check stay generic. The lead mounts these under the sys/ backend.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import { bool, str, stringMap } from '../fields';
import type { PathDefinition } from '../framework';
import type { AuditBroker } from './broker';

/** Vault's options are a string map, but clients send `{"log_raw": true}`; scalars become strings first. */
const optionsField = () =>
  z.preprocess((value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    return out;
  }, stringMap(32, 64, 4096));

const enableFields = z.object({
  type: str(64).optional().describe('The type of the audit device; only "file" is supported.'),
  description: str(1024).optional().describe('A human-friendly description of the audit device.'),
  options: optionsField().optional().describe('Device options: file_path, mode, log_raw, hmac_accessor, format, prefix, elide_list_responses.'),
  local: bool().optional().describe('Mark the device local-only (accepted for compatibility; Leasehold does not replicate).'),
});

const hashFields = z.object({
  input: str(65536).optional().describe('The value to hash with the device\'s HMAC key.'),
});

/** The audit endpoints relative to the sys/ mount: list, enable, disable, and hash. */
export function auditPaths(broker: AuditBroker): PathDefinition[] {
  return [
    {
      pattern: 'audit',
      description: 'List the enabled audit devices.',
      sudo: true,
      operations: {
        read: () => ({ data: broker.list(), topLevelData: true }),
      },
    },
    {
      pattern: 'audit/(?<path>.+)',
      description: 'Enable or disable an audit device at a path.',
      sudo: true,
      fields: enableFields,
      operations: {
        update: (req) => {
          const f = req.fields as { path: string; type?: string; description?: string; options?: Record<string, string>; local?: boolean };
          if (!f.type) throw new BadRequestError("'type' must be specified");
          broker.enable(f.path, { type: f.type, description: f.description ?? '', options: f.options ?? {}, local: f.local ?? false });
          return undefined;
        },
        delete: (req) => {
          broker.disable(String(req.fields.path));
          return undefined;
        },
      },
    },
    {
      pattern: 'audit-hash/(?<path>.+)',
      description: "Hash a value with an audit device's HMAC key, to search its log for a known value.",
      fields: hashFields,
      operations: {
        update: (req) => {
          const f = req.fields as { path: string; input?: string };
          if (!f.input) throw new BadRequestError('the "input" parameter is empty');
          return { data: { hash: broker.hash(f.path, f.input) } };
        },
      },
    },
  ];
}
