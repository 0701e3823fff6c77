// The sectioned table output of `kv get`, `kv put` and `kv metadata get` on KV v2, laid out as Vault does.
import { isRecord, type VaultResponse } from './client';
import { dataEntries, formatKeyValueTable, headerForKeys, padEqualSigns } from './format';

/** A titled Key/Value table ("=== Data ===" over the rows); KV metadata shows "" as "n/a", as Vault does. */
export function formatSection(title: string, record: Record<string, unknown>, options: { emptyAsNotApplicable?: boolean } = {}): string {
  const entries = dataEntries(record).map(([key, value]): [string, unknown] => [key, options.emptyAsNotApplicable && value === '' ? 'n/a' : value]);
  return `${headerForKeys(title, Object.keys(record))}\n${formatKeyValueTable(entries)}`;
}

/** The "== Secret Path ==" banner over the API path, sized to the path as in Vault. */
export function formatPathBanner(title: string, path: string): string {
  return `${padEqualSigns(title, path.length)}\n${path}`;
}

/**
 * `kv get` on v2: the path banner, the version's metadata, then its data (absent when the
 * version is deleted or destroyed). Also `kv put`/`kv patch`, whose response data is the metadata.
 */
export function formatKvV2Secret(path: string, response: VaultResponse, shape: 'read' | 'write'): string {
  const body = isRecord(response.data) ? response.data : {};
  const metadata = shape === 'write' ? body : isRecord(body.metadata) ? body.metadata : undefined;
  const sections = [formatPathBanner('Secret Path', path)];
  if (metadata) sections.push(formatSection('Metadata', metadata, { emptyAsNotApplicable: true }));
  if (shape === 'read' && isRecord(body.data)) sections.push(formatSection('Data', body.data));
  return sections.join('\n\n');
}

/** `kv metadata get`: the path banner, the key's metadata, then one section per version, oldest first. */
export function formatKvMetadata(path: string, response: VaultResponse): string {
  const body = isRecord(response.data) ? response.data : {};
  const { versions, ...metadata } = body;
  const sections = [formatPathBanner('Metadata Path', path), formatSection('Metadata', metadata, { emptyAsNotApplicable: true })];
  if (isRecord(versions)) {
    const numbers = Object.keys(versions).sort((a, b) => Number(a) - Number(b));
    for (const number of numbers) {
      const version = versions[number];
      if (isRecord(version)) sections.push(formatSection(`Version ${number}`, version, { emptyAsNotApplicable: true }));
    }
  }
  return sections.join('\n\n');
}
