// SCRAM-SHA-256 password verifiers computed client-side (Vault's password_authentication=scram-sha-256):
// the server, its statement log and pg_stat_activity only ever see the verifier, never the password.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
const SCRAM_ITERATIONS = 4096;

/** The verifier PostgreSQL stores for `password`, in the form it accepts in `PASSWORD '...'`. */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16)): string {
  // PostgreSQL SASLprep-normalises non-ASCII passwords; we only hash ASCII ones so both sides agree.
  if (!/^[\x20-\x7e]*$/.test(password)) throw new Error('scram-sha-256 hashing needs a printable ASCII password');
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
