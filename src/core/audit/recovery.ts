// Which requests may proceed when no audit device can record them: only the disable of an audit
// device, by a caller the ACL already allowed (sys/audit/* is sudo). Everything else fails closed.

/** Whether a routed request is `DELETE sys/audit/<path>`. `canonicalPath` is relative to the mount. */
export function isAuditDisable(mountPath: string, operation: string, canonicalPath: string): boolean {
  return mountPath === 'sys/' && operation === 'delete' && /^audit\/.+/.test(canonicalPath);
}
