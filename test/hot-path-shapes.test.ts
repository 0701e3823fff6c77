// The objects built for every request keep one hidden class once V8 has optimised the request path.
// On Node 20 an object made by spread and then given a new key gets a class of its own each time
// (see src/util/objects.ts): a KV read spent ~10 us of its ~48 us in-process on four such objects.
import v8 from 'node:v8';
import { z } from 'zod';
import type { BackendFactory, BackendRequest } from '../src/core/framework';
import type { AuditRequestInput, AuditResponseInput } from '../src/core/audit/broker';
import type { VaultResponse } from '../src/core/vault';
import { unsealedVault } from './helpers/vault';

// V8's own test hook: hidden classes cannot be observed otherwise.
v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

/** Enough reads, 32 at a time as a loaded server sees them, for V8 to optimise the whole path. */
const WARM_UP_READS = 12_000;

/** Keeps the last two values seen under each name. */
class LastTwo {
  readonly seen = new Map<string, object[]>();
  keep(name: string, value: object): void {
    const list = this.seen.get(name) ?? [];
    list.push(value);
    if (list.length > 2) list.shift();
    this.seen.set(name, list);
  }
}

function shapesEngine(probe: LastTwo): BackendFactory {
  return () => ({
    paths: [
      {
        pattern: 'items/(?<name>[a-z0-9-]+)',
        description: 'Reads a fixed item.',
        fields: z.object({ name: z.string().max(64) }),
        operations: {
          read: (req: BackendRequest) => {
            probe.keep('backend request', req);
            probe.keep('backend request fields', req.fields);
            return { data: { name: req.fields.name as string, value: 'v' } };
          },
        },
      },
    ],
  });
}

describe('hot-path object shapes', () => {
  it('a policy-checked, audited read builds its request, audit and response objects with one hidden class each', async () => {
    const probe = new LastTwo();
    const { vault, rootToken } = await unsealedVault({ registry: { shapes: shapesEngine(probe) } });
    const asRoot = (operation: 'write', path: string, data: Record<string, unknown>) => vault.handle({ operation, path, data, token: rootToken, clientAddress: '127.0.0.1' });
    await asRoot('write', 'sys/mounts/shapes', { type: 'shapes' });
    await asRoot('write', 'sys/audit/probe', { type: 'file', options: { file_path: 'discard' } });
    await asRoot('write', 'sys/policies/acl/reader', { policy: 'path "shapes/items/*" { capabilities = ["read"] }' });
    const created = (await asRoot('write', 'auth/token/create', { policies: ['reader'] })).body as { auth: { client_token: string } };
    const token = created.auth.client_token;

    const broker = vault.audit;
    const logRequest = broker.logRequest.bind(broker);
    const logResponse = broker.logResponse.bind(broker);
    broker.logRequest = (input: AuditRequestInput) => {
      probe.keep('audit request input', input);
      return logRequest(input);
    };
    broker.logResponse = (input: AuditResponseInput, scope?: ReadonlySet<string>) => {
      probe.keep('audit response input', input);
      return logResponse(input, scope);
    };

    let requestNumber = 0;
    const read = async () => {
      const response: VaultResponse = await vault.handle({ operation: 'read', path: 'shapes/items/a', data: {}, token, clientAddress: '127.0.0.1', clientPort: 4000, requestId: `r-${++requestNumber}` });
      expect(response.statusCode).toBe(200);
      probe.keep('response', response);
      probe.keep('response body', response.body as object);
    };
    for (let i = 0; i < WARM_UP_READS; i += 32) await Promise.all(Array.from({ length: 32 }, read));

    // One class per site, and not V8's dictionary mode (which %HaveSameMap alone would not notice).
    // The audit response input (a spread of the request input plus `response`) and the backend request
    // (a spread of the incoming request plus `fields`) failed before; the others guard their sites.
    const shapes = Object.fromEntries(
      [...probe.seen].map(([name, [a, b]]) => [name, a !== undefined && b !== undefined && a !== b && haveSameMap(a, b) && hasFastProperties(a)]),
    );
    expect(shapes).toEqual({
      'audit request input': true,
      'backend request': true,
      'backend request fields': true,
      'response': true,
      'response body': true,
      'audit response input': true,
    });
  });
});
