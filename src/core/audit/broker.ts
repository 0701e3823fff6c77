// The audit broker: the table of enabled audit devices (persisted in encrypted storage with each
// device's HMAC key), and the fan-out that records every request and response, failing closed.
// Entries are group-committed: the lines of every request in flight in one event-loop turn go to
// each device in a single write, and no caller proceeds before the write that holds its line.
import { BadRequestError } from '../../errors';
import { generateKey } from '../barrier';
import type { BackendContext } from '../framework';
import type { StorageView } from '../storage-view';
import type { Clock } from '../../util/clock';
import { AuditFailureError } from './errors';
import { FILE_OPTION_KEYS, FileDevice, parseFileDeviceOptions } from './file-device';
import { COMMON_OPTION_KEYS, EntryFormatter, entryTime, parseFormatOptions } from './format';
import { AuditHasher } from './hash';
import type { AuditRequestInput, AuditResponseInput } from './types';

export type { AuditAuthInput, AuditRequestInput, AuditResponseAuthInput, AuditResponseBody, AuditResponseInput, AuditWrapInfoInput } from './types';

/** What the broker needs from the core: its storage, a clock, a logger, and optionally a key source. */
export interface AuditBrokerDeps {
  /** Encrypted, prefix-scoped storage for the device table, e.g. `store.view('core/audit/')`. */
  storage: StorageView;
  clock: Clock;
  logger: BackendContext['logger'];
  /** Source of per-device HMAC keys (32 random bytes); injectable for tests. */
  generateKey?: () => Uint8Array;
}

/** The arguments of sys/audit/:path, as Vault's API takes them. */
export interface AuditEnableInput {
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
}

/** One device as sys/audit lists it (never with its key). */
export interface AuditDeviceListing {
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
  path: string;
  /** Leasehold's addition: whether the device is recording, so an operator can find the one that is not. */
  health: AuditDeviceHealth;
}

/** A device's health since it was enabled (or since the vault was last unsealed). */
export interface AuditDeviceHealth {
  /** Writes (group commits or single entries) that failed since enable or unseal. */
  failures_since_enable: number;
  /** The last failure's errno code or message (never an entry's content); empty when none. */
  last_error: string;
  /** RFC 3339 time of the last failure; empty when none. */
  last_error_time: string;
  /** RFC 3339 time of the last successful write; empty when none yet. */
  last_success_time: string;
}

/** A device as persisted. The key is only ever in encrypted storage and in memory while unsealed. */
interface StoredDevice {
  path: string;
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
  /** The device's HMAC key, base64. */
  hmacKey: string;
  createdAtMs: number;
}

interface StoredTable {
  version: 1;
  devices: StoredDevice[];
}

/**
 * Lines waiting for the next group commit, and the callers waiting on them. Each waiter names the
 * devices that took its line; it proceeds if at least one of them wrote it (Vault's rule: one
 * device suffices, none is a failure).
 */
interface PendingBatch {
  lines: Map<ActiveDevice, string[]>;
  waiters: Array<{ devices: ActiveDevice[]; resolve: () => void; reject: (error: Error) => void }>;
}

/** A device's configuration without its key: what stays in memory besides the key bytes. */
type DeviceConfig = Omit<StoredDevice, 'hmacKey'>;

/** An enabled device in memory. `failure` is set when its stored configuration no longer validates. */
interface ActiveDevice {
  config: DeviceConfig;
  hasher: AuditHasher;
  formatter: EntryFormatter;
  sink: FileDevice | undefined;
  failure?: string;
  health: { failures: number; lastError: string; lastErrorMs: number; lastSuccessMs: number };
}

const freshHealth = (): ActiveDevice['health'] => ({ failures: 0, lastError: '', lastErrorMs: 0, lastSuccessMs: 0 });
const rfc3339 = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '');

const TABLE_KEY = 'devices';
const SUPPORTED_TYPES = new Set(['file']);
const KNOWN_OPTION_KEYS = new Set([...COMMON_OPTION_KEYS, ...FILE_OPTION_KEYS]);
const PATH_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)+$/;
const MAX_PATH_LENGTH = 128;

/** Vault's audit paths always end in `/`; validated so a path is a safe storage and display key. */
export function normaliseAuditPath(raw: string): string {
  const trimmed = raw.replace(/^\/+/, '');
  const normalised = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  if (normalised.length > MAX_PATH_LENGTH || !PATH_PATTERN.test(normalised)) {
    throw new BadRequestError('audit path must be one or more segments of letters, digits, or ._- separated by "/"');
  }
  return normalised;
}

function validateOptions(options: Record<string, string>): { file: ReturnType<typeof parseFileDeviceOptions>; formatting: ReturnType<typeof parseFormatOptions> } {
  const unknown = Object.keys(options).filter((k) => !KNOWN_OPTION_KEYS.has(k));
  if (unknown.length > 0) throw new BadRequestError(`unrecognised audit device options: ${unknown.sort().join(', ')}`);
  return { file: parseFileDeviceOptions(options), formatting: parseFormatOptions(options) };
}

function describeError(err: unknown): { code?: string; message: string } {
  const e = err as NodeJS.ErrnoException;
  return { code: e?.code, message: e instanceof Error ? e.message : String(err) };
}

/**
 * Routes audit entries to every enabled device. Devices live only while unsealed: `load()` on
 * unseal, `unload()` on seal. With at least one device enabled, an entry that no device records
 * throws AuditFailureError, so the request is refused (Vault's fail-closed rule).
 */
export class AuditBroker {
  private readonly devices = new Map<string, ActiveDevice>();
  /** The enabled paths as one shared, read-only snapshot (each request's audit scope), rebuilt when the table changes. */
  private scope: ReadonlySet<string> = new Set();
  private batch: PendingBatch | undefined;
  /** Entries that no device recorded since start, so the request was refused (Vault's audit.log_request_failure, log_response_failure). */
  readonly failedEntries = { request: 0, response: 0 };

  constructor(private readonly deps: AuditBrokerDeps) {}

  /** Reads the device table and opens every device. A device that cannot open is logged and retried on each write. */
  load(): void {
    this.unload();
    for (const stored of this.readTable().devices) {
      const device = this.activate(stored);
      this.devices.set(device.config.path, device);
      if (device.failure) {
        this.deps.logger.error({ auditPath: device.config.path, reason: device.failure }, 'audit device configuration is invalid; it will refuse every entry');
        continue;
      }
      try {
        device.sink?.open();
      } catch (err) {
        this.deps.logger.error({ auditPath: device.config.path, err: describeError(err) }, 'audit device could not be opened; retrying on each entry');
      }
    }
    this.refreshScope();
  }

  /** Closes every device and zeroes every key (on seal). */
  unload(): void {
    this.flush();
    for (const device of this.devices.values()) this.release(device);
    this.devices.clear();
    this.refreshScope();
  }

  /** Whether any device is enabled (the pipeline can skip building audit input when false). */
  hasDevices(): boolean {
    return this.devices.size > 0;
  }

  /** Enables a device: validates its options, opens its file, then persists it with a fresh HMAC key. */
  enable(rawPath: string, input: AuditEnableInput): void {
    const path = normaliseAuditPath(rawPath);
    if (!SUPPORTED_TYPES.has(input.type)) throw new BadRequestError(`unknown backend type: "${input.type}"`);
    if (this.conflicts(path, this.devices.keys())) throw new BadRequestError('path already in use');
    const options = { ...input.options };
    const { file, formatting } = validateOptions(options);

    const key = (this.deps.generateKey ?? generateKey)();
    const config: DeviceConfig = { path, type: input.type, description: input.description, options, local: input.local, createdAtMs: this.deps.clock.nowMs() };
    const hasher = new AuditHasher(key, formatting.hashing);
    const device: ActiveDevice = { config, hasher, formatter: new EntryFormatter(hasher, formatting.format), sink: new FileDevice(file), health: freshHealth() };
    try {
      device.sink?.open();
      this.writeTestEntry(device);
      this.deps.storage.transaction(() => {
        const table = this.readTable();
        if (this.conflicts(path, table.devices.map((d) => d.path))) throw new BadRequestError('path already in use');
        table.devices.push({ ...config, hmacKey: Buffer.from(key).toString('base64') });
        this.deps.storage.putJSON(TABLE_KEY, table);
      });
    } catch (err) {
      this.release(device);
      throw err;
    }
    this.devices.set(path, device);
    this.refreshScope();
  }

  /** Disables a device; a path with no device is not an error (as in Vault). Its key is destroyed. */
  disable(rawPath: string): void {
    const path = normaliseAuditPath(rawPath);
    let removed = false;
    this.deps.storage.transaction(() => {
      const table = this.readTable();
      const remaining = table.devices.filter((d) => d.path !== path);
      removed = remaining.length !== table.devices.length;
      if (removed) this.deps.storage.putJSON(TABLE_KEY, { ...table, devices: remaining });
    });
    const device = this.devices.get(path);
    // The server log records every disable: it may be the only record when no device could write.
    if (removed || device) this.deps.logger.warn({ auditPath: path, failuresSinceEnable: device?.health.failures ?? 0 }, 'audit device disabled');
    if (device) {
      // Lines already taken for this device are written before its file closes.
      this.flush();
      this.devices.delete(path);
      this.refreshScope();
      this.release(device);
    }
  }

  /** The enabled devices keyed by path, as GET sys/audit returns them. */
  list(): Record<string, AuditDeviceListing> {
    const out: Record<string, AuditDeviceListing> = {};
    for (const path of [...this.devices.keys()].sort()) {
      const { config, health } = this.devices.get(path) as ActiveDevice;
      out[path] = {
        type: config.type,
        description: config.description,
        options: { ...config.options },
        local: config.local,
        path,
        health: {
          failures_since_enable: health.failures,
          last_error: health.lastError,
          last_error_time: rfc3339(health.lastErrorMs),
          last_success_time: rfc3339(health.lastSuccessMs),
        },
      };
    }
    return out;
  }

  /** HMACs `input` with a device's key (sys/audit-hash), so an operator can search the log for a known value. */
  hash(rawPath: string, input: string): string {
    const path = normaliseAuditPath(rawPath);
    const device = this.devices.get(path);
    if (!device) throw new BadRequestError(`unknown audit backend ${path}`);
    return device.hasher.hmac(input);
  }

  /**
   * Records a request before it runs: resolves once its line is written, and rejects with
   * AuditFailureError if devices exist and none wrote it. Resolves to the devices it went to: the
   * request's response is owed to exactly those (a device enabled by this very request does not
   * have to record the response to its own enabling).
   */
  async logRequest(input: AuditRequestInput): Promise<ReadonlySet<string>> {
    const scope = this.scope;
    if (scope.size === 0) return scope;
    const time = entryTime(this.deps.clock.nowMs());
    try {
      await this.fanOut('request', (device) => device.formatter.requestLine(input, time));
    } catch (err) {
      this.countFailure('request', err);
    }
    return scope;
  }

  /**
   * Records the request of a sudo-authorised audit device disable. As `logRequest`, except that
   * when no device can record it the disable still proceeds (owing no response entry): otherwise a
   * device that fails every write would lock the vault for good. The server log says so.
   */
  async logRecoveryRequest(input: AuditRequestInput): Promise<ReadonlySet<string>> {
    try {
      return await this.logRequest(input);
    } catch (err) {
      if (!(err instanceof AuditFailureError)) throw err;
      this.deps.logger.error({ path: input.path, operation: input.operation }, 'no audit device could record an audit device disable; allowing it so a failing device can be removed');
      return new Set();
    }
  }

  /** Records a response (or error) before it is sent, to the devices in `scope` (default: all). Settles like `logRequest`. */
  async logResponse(input: AuditResponseInput, scope?: ReadonlySet<string>): Promise<void> {
    if (this.devices.size === 0 || scope?.size === 0) return;
    const time = entryTime(this.deps.clock.nowMs());
    try {
      await this.fanOut('response', (device) => device.formatter.responseLine(input, time), scope);
    } catch (err) {
      this.countFailure('response', err);
    }
  }

  /** Counts an entry that no device recorded, and passes the failure on. */
  private countFailure(kind: 'request' | 'response', err: unknown): never {
    if (err instanceof AuditFailureError) this.failedEntries[kind] += 1;
    throw err;
  }

  /**
   * Writes every pending line now, one write per device, and settles their waiters. Runs by itself
   * once per event-loop turn; called directly before a device closes so nothing taken is dropped.
   */
  flush(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    const written = new Set<ActiveDevice>();
    for (const [device, lines] of batch.lines) {
      try {
        (device.sink as FileDevice).write(lines.length === 1 ? (lines[0] as string) : lines.join(''));
        written.add(device);
        device.health.lastSuccessMs = this.deps.clock.nowMs();
      } catch (err) {
        this.noteFailure(device, err);
        this.deps.logger.error({ auditPath: device.config.path, entries: lines.length, err: describeError(err) }, 'audit device failed to record entries');
      }
    }
    for (const waiter of batch.waiters) {
      if (waiter.devices.some((device) => written.has(device))) waiter.resolve();
      else waiter.reject(new AuditFailureError());
    }
  }

  /** Reopens every file device (log rotation, e.g. on SIGHUP). A device that cannot reopen keeps its old file. */
  reopen(): void {
    for (const device of this.devices.values()) {
      try {
        device.sink?.reopen();
      } catch (err) {
        this.deps.logger.error({ auditPath: device.config.path, err: describeError(err) }, 'audit device could not be reopened');
      }
    }
  }

  /** Counts a failed write in the device's health (the error's code, never an entry's content). */
  private noteFailure(device: ActiveDevice, err: unknown): void {
    const { code, message } = describeError(err);
    device.health.failures += 1;
    device.health.lastError = code ?? message;
    device.health.lastErrorMs = this.deps.clock.nowMs();
  }

  /**
   * Writes one test entry before a device is enabled (as Vault does), so a target that opens but
   * cannot be written (`/dev/full`, a full disk, a read-only mount) is refused with a 400 now rather
   * than failing every request later.
   */
  private writeTestEntry(device: ActiveDevice): void {
    const line = device.formatter.requestLine(
      { requestId: 'audit-device-test', operation: 'update', path: 'sys/audit/test', mountType: 'system', mountAccessor: '', data: {}, remoteAddress: '' },
      entryTime(this.deps.clock.nowMs()),
    );
    try {
      (device.sink as FileDevice).write(line);
    } catch (err) {
      const { code } = describeError(err);
      const target = device.config.options.file_path || device.config.options.path || '';
      throw new BadRequestError(`audit device "${device.config.path}" cannot write to "${target}": the test entry failed (${code ?? 'write error'})`);
    }
    device.health.lastSuccessMs = this.deps.clock.nowMs();
  }

  /** Rebuilds the shared scope snapshot after the device table changed. */
  private refreshScope(): void {
    this.scope = new Set(this.devices.keys());
  }

  /** Formats the entry for each device in scope and queues it for the next group commit. */
  private fanOut(kind: 'request' | 'response', format: (device: ActiveDevice) => string, scope?: ReadonlySet<string>): Promise<void> {
    const taken: ActiveDevice[] = [];
    let attempted = 0;
    for (const [path, device] of this.devices) {
      if (scope && !scope.has(path)) continue;
      attempted += 1;
      try {
        if (device.failure || !device.sink) throw new Error(device.failure ?? 'device has no sink');
        const line = format(device);
        const batch = this.pendingBatch();
        const lines = batch.lines.get(device);
        if (lines) lines.push(line);
        else batch.lines.set(device, [line]);
        taken.push(device);
      } catch (err) {
        this.noteFailure(device, err);
        this.deps.logger.error({ auditPath: device.config.path, entryType: kind, err: describeError(err) }, 'audit device failed to record an entry');
      }
    }
    // A scope whose devices were all disabled meanwhile owes nothing.
    if (attempted === 0) return Promise.resolve();
    if (taken.length === 0) return Promise.reject(new AuditFailureError());
    const batch = this.pendingBatch();
    return new Promise((resolve, reject) => batch.waiters.push({ devices: taken, resolve, reject }));
  }

  /** The batch the next group commit writes, scheduling that commit when the batch is new. */
  private pendingBatch(): PendingBatch {
    if (this.batch) return this.batch;
    const batch: PendingBatch = { lines: new Map(), waiters: [] };
    this.batch = batch;
    // setImmediate runs after the poll phase: every request read in this turn has queued its line by then.
    setImmediate(() => {
      if (this.batch === batch) this.flush();
    });
    return batch;
  }

  /** Builds the in-memory device for a stored entry; a configuration that no longer validates is kept, failing. */
  private activate(stored: StoredDevice): ActiveDevice {
    const { hmacKey, ...config } = stored;
    const key = new Uint8Array(Buffer.from(hmacKey, 'base64'));
    try {
      if (!SUPPORTED_TYPES.has(config.type)) throw new BadRequestError(`unknown backend type: "${config.type}"`);
      const { file, formatting } = validateOptions(config.options);
      const hasher = new AuditHasher(key, formatting.hashing);
      return { config, hasher, formatter: new EntryFormatter(hasher, formatting.format), sink: new FileDevice(file), health: freshHealth() };
    } catch (err) {
      const hasher = new AuditHasher(key, { logRaw: false, hmacAccessor: true });
      return { config, hasher, formatter: new EntryFormatter(hasher, { prefix: '', elideListResponses: false }), sink: undefined, failure: describeError(err).message, health: freshHealth() };
    }
  }

  private release(device: ActiveDevice): void {
    device.formatter.clear();
    device.sink?.close();
    device.hasher.destroy();
  }

  private conflicts(path: string, existing: Iterable<string>): boolean {
    for (const other of existing) if (other.startsWith(path) || path.startsWith(other)) return true;
    return false;
  }

  private readTable(): StoredTable {
    return this.deps.storage.getJSON<StoredTable>(TABLE_KEY) ?? { version: 1, devices: [] };
  }
}
