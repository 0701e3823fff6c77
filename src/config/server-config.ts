// `leasehold server -config=FILE|DIR`: Vault's server configuration (HCL or JSON; a directory's
// *.hcl and *.json files merged in name order, later files overriding earlier ones as Vault does).
// Every error names the file and line; nothing from the file's values is echoed except key names.
import fs from 'node:fs';
import path from 'node:path';
import { parseDurationSeconds } from '../util/duration';
import { type HclEntry, type HclNode, HclSyntaxError, parseHclDocument } from './hcl';
import { TLS_VERSIONS, type TlsMinVersion } from '../http/tls';

/** A config error: the server does not start. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What a Vault-style config file sets (all optional; flags override). */
export interface VaultServerConfig {
  storagePath?: string;
  listenAddress?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsMinVersion?: TlsMinVersion;
  tlsClientCaFile?: string;
  tlsRequireAndVerifyClientCert?: boolean;
  tlsDisable?: boolean;
  unauthenticatedMetricsAccess?: boolean;
  /** Top-level `telemetry { prometheus_retention_time = "0" }`: metrics off (no counting; sys/metrics refuses). */
  metricsDisabled?: boolean;
  apiAddr?: string;
  ui?: boolean;
  defaultLeaseTtlSeconds?: number;
  maxLeaseTtlSeconds?: number;
  logLevel?: string;
  /** `max_pending_wraps_per_token`: unexpired response-wrapping tokens one token may have pending. */
  maxPendingWrapsPerToken?: number;
  /** Informational notes for the log (settings accepted but without effect here). */
  notes: string[];
}

/** Vault's built-in system lease TTL, for a default_lease_ttl or max_lease_ttl left unset. */
const SYSTEM_TTL_SECONDS = 768 * 3600;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

type Where = (line: number) => string;

function fail(where: Where, line: number, message: string): never {
  throw new ConfigError(`${where(line)}: ${message}`);
}

function str(where: Where, e: HclEntry): string {
  if (e.block || e.value.kind !== 'string') fail(where, e.line, `"${e.key}" must be a string`);
  return e.value.value;
}

function boolOf(where: Where, e: HclEntry): boolean {
  if (e.block) fail(where, e.line, `"${e.key}" must be a boolean`);
  const v = e.value;
  if (v.kind === 'bool') return v.value;
  // Vault's HCL decoder also takes "true"/"false" strings.
  if (v.kind === 'string' && (v.value === 'true' || v.value === 'false')) return v.value === 'true';
  fail(where, e.line, `"${e.key}" must be a boolean`);
}

function duration(where: Where, e: HclEntry): number {
  if (e.block || (e.value.kind !== 'string' && e.value.kind !== 'number')) fail(where, e.line, `"${e.key}" must be a duration such as "768h"`);
  const seconds = parseDurationSeconds(e.value.value);
  if (seconds === undefined || seconds < 0) fail(where, e.line, `"${e.key}" must be a duration such as "768h"`);
  return seconds;
}

/** A block's body and its single label: HCL `storage "sqlite" { }`, or JSON `"storage": {"sqlite": { }}`. */
function labelledBlock(where: Where, e: HclEntry): { label: string; body: HclEntry[]; line: number } {
  if (e.value.kind !== 'object') fail(where, e.line, `"${e.key}" must be a block`);
  if (e.labels.length === 1) return { label: e.labels[0] as string, body: e.value.entries, line: e.line };
  if (e.labels.length === 0 && e.value.entries.length === 1) {
    const inner = e.value.entries[0] as HclEntry;
    if (inner.value.kind === 'object' && inner.labels.length === 0) return { label: inner.key, body: inner.value.entries, line: inner.line };
  }
  fail(where, e.line, `"${e.key}" needs exactly one label, e.g. ${e.key} "${e.key === 'storage' ? 'sqlite' : 'tcp'}" { ... }`);
}

function bodyOf(where: Where, e: HclEntry): HclEntry[] {
  if (e.value.kind !== 'object') fail(where, e.line, `"${e.key}" must be a block`);
  return e.value.entries;
}

function applyListener(where: Where, body: HclEntry[], out: VaultServerConfig): void {
  for (const e of body) {
    switch (e.key) {
      case 'address':
        out.listenAddress = str(where, e);
        break;
      case 'tls_cert_file':
        out.tlsCertFile = str(where, e);
        break;
      case 'tls_key_file':
        out.tlsKeyFile = str(where, e);
        break;
      case 'tls_client_ca_file':
        out.tlsClientCaFile = str(where, e);
        break;
      case 'tls_min_version': {
        const v = str(where, e);
        if (!(v in TLS_VERSIONS)) fail(where, e.line, `"tls_min_version" must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
        out.tlsMinVersion = v as TlsMinVersion;
        break;
      }
      case 'tls_require_and_verify_client_cert':
        out.tlsRequireAndVerifyClientCert = boolOf(where, e);
        break;
      case 'tls_disable':
        out.tlsDisable = boolOf(where, e);
        break;
      case 'telemetry':
        for (const t of bodyOf(where, e)) {
          if (t.key !== 'unauthenticated_metrics_access') fail(where, t.line, `unknown key "${t.key}" in listener telemetry`);
          out.unauthenticatedMetricsAccess = boolOf(where, t);
        }
        break;
      default:
        fail(where, e.line, `unknown key "${e.key}" in listener "tcp"`);
    }
  }
}

/**
 * The top-level `telemetry` stanza. Leasehold serves its metrics only at sys/metrics (no statsd or
 * other sinks); as in Vault, `prometheus_retention_time = 0` turns that off, and here it stops the
 * counting too. Other retentions are accepted: the summaries keep their last 2048 observations.
 */
function applyTelemetry(where: Where, body: HclEntry[], out: VaultServerConfig): void {
  for (const t of body) {
    switch (t.key) {
      case 'prometheus_retention_time':
        out.metricsDisabled = duration(where, t) === 0;
        break;
      case 'disable_hostname':
        // Leasehold never prefixes metric names with the host name: accepted either way.
        boolOf(where, t);
        break;
      default:
        fail(where, t.line, `unknown key "${t.key}" in telemetry (Leasehold knows prometheus_retention_time and disable_hostname)`);
    }
  }
}

/** Applies one parsed file onto `out` (later files override earlier ones). */
function applyDocument(where: Where, entries: HclEntry[], out: VaultServerConfig): void {
  for (const e of entries) {
    switch (e.key) {
      case 'storage': {
        const { label, body, line } = labelledBlock(where, e);
        if (label !== 'sqlite' && label !== 'file') fail(where, line, `storage "${label}" is not supported: use "sqlite" (or its alias "file")`);
        for (const s of body) {
          if (s.key !== 'path') fail(where, s.line, `unknown key "${s.key}" in storage "${label}"`);
          out.storagePath = str(where, s);
        }
        if (out.storagePath === undefined) fail(where, line, `storage "${label}" needs a "path"`);
        break;
      }
      case 'listener': {
        const { label, body, line } = labelledBlock(where, e);
        if (label !== 'tcp') fail(where, line, `listener "${label}" is not supported: use "tcp"`);
        applyListener(where, body, out);
        break;
      }
      case 'api_addr':
        out.apiAddr = str(where, e);
        break;
      case 'ui':
        out.ui = boolOf(where, e);
        break;
      case 'default_lease_ttl':
        out.defaultLeaseTtlSeconds = duration(where, e);
        break;
      case 'max_lease_ttl':
        out.maxLeaseTtlSeconds = duration(where, e);
        break;
      case 'log_level': {
        const v = str(where, e).toLowerCase();
        if (!LOG_LEVELS.includes(v)) fail(where, e.line, `"log_level" must be one of ${LOG_LEVELS.join(', ')}`);
        out.logLevel = v;
        break;
      }
      case 'telemetry':
        applyTelemetry(where, bodyOf(where, e), out);
        break;
      case 'max_pending_wraps_per_token': {
        const v = e.value;
        if (e.block || v.kind !== 'number' || !Number.isInteger(v.value) || v.value < 1 || v.value > 1_000_000) {
          fail(where, e.line, '"max_pending_wraps_per_token" must be a whole number from 1 to 1000000');
        }
        out.maxPendingWrapsPerToken = v.value;
        break;
      }
      case 'disable_mlock':
        boolOf(where, e);
        out.notes.push('disable_mlock is accepted and ignored: Leasehold does not lock memory (Node cannot mlock its heap)');
        break;
      default:
        fail(where, e.line, `unknown key "${e.key}"`);
    }
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The files a -config path names: the file itself, or a directory's *.hcl and *.json in name order. */
export function configFiles(target: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (err) {
    throw new ConfigError(`${target}: config file not found (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!stat.isDirectory()) return [target];
  const files = fs
    .readdirSync(target)
    .filter((name) => name.endsWith('.hcl') || name.endsWith('.json'))
    .sort()
    .map((name) => path.join(target, name));
  if (files.length === 0) throw new ConfigError(`${target}: the config directory has no *.hcl or *.json file`);
  return files;
}

/** Parses one file's text (HCL, or JSON which is the same grammar) onto `out`. */
export function applyConfigText(file: string, text: string, out: VaultServerConfig): void {
  const where: Where = (line) => `${file}:${line}`;
  let doc: HclNode & { kind: 'object' };
  try {
    doc = parseHclDocument(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) fail(where, err.line, err.detail);
    throw err;
  }
  applyDocument(where, doc.entries, out);
}

/** Loads a Vault-style config file or directory. */
export function loadVaultServerConfig(target: string): VaultServerConfig {
  const out: VaultServerConfig = { notes: [] };
  for (const file of configFiles(target)) applyConfigText(file, readText(file), out);
  if ((out.tlsCertFile === undefined) !== (out.tlsKeyFile === undefined)) throw new ConfigError(`${target}: listener "tcp" needs both tls_cert_file and tls_key_file`);
  // As Vault's core: a system default above the system max is a config error (768h stands in for an unset one).
  const defaultTtl = out.defaultLeaseTtlSeconds || SYSTEM_TTL_SECONDS;
  const maxTtl = out.maxLeaseTtlSeconds || SYSTEM_TTL_SECONDS;
  if (defaultTtl > maxTtl) throw new ConfigError(`${target}: default_lease_ttl (${defaultTtl}s) cannot be greater than max_lease_ttl (${maxTtl}s)`);
  return out;
}

/** Whether a JSON config uses Leasehold's older flat format ({"listen", "data_dir", "log_level", ...}) rather than Vault's. */
export function isLegacyJsonConfig(text: string): boolean {
  try {
    const raw = JSON.parse(text) as unknown;
    return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && ('listen' in raw || 'data_dir' in raw);
  } catch {
    return false;
  }
}
