// Builds one backend on real in-memory encrypted storage and calls it the way the router does.
import { Barrier, generateKey } from '../../src/core/barrier';
import { BarrierStorage } from '../../src/core/barrier-storage';
import { compilePaths, type BackendFactory, type BackendResponse, type Operation } from '../../src/core/framework';
import { resolveRequest } from '../../src/core/dispatch';
import { openDatabase } from '../../src/storage/database';
import { ManualClock } from '../../src/util/clock';
import { VaultError } from '../../src/errors';

/** An unsealed barrier over a fresh in-memory database. */
export function memoryStorage(): BarrierStorage {
  const barrier = new Barrier();
  barrier.unseal({ activeTerm: 1, terms: [{ term: 1, key: generateKey(), installedAtMs: 0 }], derivationSeed: generateKey() });
  return new BarrierStorage(openDatabase(':memory:'), barrier);
}

const silentLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Mounts `factory` at `mountPath` and returns a `call` that resolves and runs requests. */
export function mountForTest(factory: BackendFactory, options: Record<string, string> = {}, mountPath = 'test/') {
  const store = memoryStorage();
  const storage = store.view(`logical/${mountPath}`);
  const clock = new ManualClock();
  const backend = factory({ mountPath, options, storage, clock, logger: silentLogger });
  const compiled = compilePaths(backend.paths);
  const call = async (operation: Operation | 'write', path: string, data: Record<string, unknown> = {}): Promise<BackendResponse | undefined> => {
    const resolved = await resolveRequest(compiled, {
      operation,
      path,
      mountPath,
      rawData: data,
      clientAddress: '127.0.0.1',
      requestId: 'test',
      storage,
    });
    return resolved.run();
  };
  return { backend, call, clock, storage, store };
}

/** The VaultError a call rejects with (fails the test if it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
