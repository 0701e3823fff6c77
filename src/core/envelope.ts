// Vault's response envelope, built in one place for the HTTP layer and for response wrapping.

/** The JSON body of every successful Vault response that has something to say. */
export interface Envelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: Record<string, unknown> | null;
  wrap_info: Record<string, unknown> | null;
  warnings: string[] | null;
  auth: Record<string, unknown> | null;
  mount_type: string;
  [topLevel: string]: unknown;
}

/** Fills Vault's envelope; absent parts are null, as Vault sends them. */
export function envelope(parts: Partial<Envelope> & { request_id: string }, topLevelData = false): Envelope {
  const body: Envelope = {
    request_id: parts.request_id,
    lease_id: parts.lease_id ?? '',
    renewable: parts.renewable ?? false,
    lease_duration: parts.lease_duration ?? 0,
    data: parts.data ?? null,
    wrap_info: parts.wrap_info ?? null,
    warnings: parts.warnings && parts.warnings.length > 0 ? parts.warnings : null,
    auth: parts.auth ?? null,
    mount_type: parts.mount_type ?? '',
  };
  if (topLevelData && body.data) {
    for (const [k, v] of Object.entries(body.data)) if (!(k in body)) body[k] = v;
  }
  return body;
}
