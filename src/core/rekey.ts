// sys/rekey: replace the unseal key shares (and the root key behind them) after a threshold of the
// current shares, as Vault's barrier rekey. Progress is in memory only: a restart or seal cancels it.
import { BadRequestError } from '../errors';
import { checkShareParameters, type SealManager } from './seal';
import { ShareCollector } from './share-collector';

/** sys/rekey/init's status, in Vault's shape. */
export interface RekeyStatus {
  nonce: string;
  started: boolean;
  t: number;
  n: number;
  progress: number;
  required: number;
  pgp_fingerprints: null;
  backup: boolean;
  verification_required: boolean;
}

/** The answer to the share that completes a rekey: the new shares, shown this once. */
export interface RekeyResult {
  complete: true;
  nonce: string;
  keys: string[];
  keys_base64: string[];
  pgp_fingerprints: null;
  backup: boolean;
  verification_required: boolean;
}

interface Attempt {
  collector: ShareCollector;
  newShares: number;
  newThreshold: number;
}

/** The one rekey in progress (at most one, as in Vault). */
export class RekeyCeremony {
  private attempt: Attempt | undefined;

  constructor(private readonly seal: SealManager) {}

  status(): RekeyStatus {
    const a = this.attempt;
    const required = a ? a.collector.threshold : this.seal.shareParameters().threshold;
    return {
      nonce: a?.collector.nonce ?? '',
      started: a !== undefined,
      t: a?.newThreshold ?? 0,
      n: a?.newShares ?? 0,
      progress: a?.collector.progress ?? 0,
      required,
      pgp_fingerprints: null,
      backup: false,
      verification_required: false,
    };
  }

  /** Starts a rekey to `secretShares`/`secretThreshold`. One at a time: cancel the old one first. */
  start(secretShares: number, secretThreshold: number): RekeyStatus {
    if (this.attempt) throw new BadRequestError('rekey already in progress');
    checkShareParameters(secretShares, secretThreshold);
    const current = this.seal.shareParameters();
    this.attempt = { collector: new ShareCollector(current.threshold, current.shareLength), newShares: secretShares, newThreshold: secretThreshold };
    return this.status();
  }

  cancel(): void {
    this.attempt?.collector.clear();
    this.attempt = undefined;
  }

  /** Adds one current share. At the threshold the rekey happens and the new shares are returned. */
  async update(key: string, nonce: string): Promise<RekeyStatus | RekeyResult> {
    const a = this.attempt;
    if (!a) throw new BadRequestError('no rekey in progress');
    const shares = a.collector.add(key, nonce);
    if (!shares) return this.status();
    // The attempt ends here whatever happens next: a failed combination resets progress, as in Vault.
    this.attempt = undefined;
    const rootKey = await this.seal.recoverRootKey(shares, 'rekey');
    const newShares = await this.seal.rekey(rootKey, a.newShares, a.newThreshold);
    const result: RekeyResult = {
      complete: true,
      nonce: a.collector.nonce,
      keys: newShares.map((k) => Buffer.from(k).toString('hex')),
      keys_base64: newShares.map((k) => Buffer.from(k).toString('base64')),
      pgp_fingerprints: null,
      backup: false,
      verification_required: false,
    };
    for (const k of newShares) k.fill(0);
    return result;
  }
}
