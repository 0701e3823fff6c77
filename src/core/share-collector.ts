// Collects the key shares of one key ceremony (rekey, generate-root): in memory only, bound to the
// ceremony's nonce, refusing wrong-length and duplicate shares without echoing any of them.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { BadRequestError } from '../errors';
import { zeroize } from './barrier';
import { decodeUnsealKey } from './seal';

/** One ceremony's progress. Lost on restart or seal, as in Vault: the operators start it again. */
export class ShareCollector {
  readonly nonce = randomUUID();
  private shares: Uint8Array[] = [];

  constructor(
    readonly threshold: number,
    private readonly shareLength: number,
  ) {}

  get progress(): number {
    return this.shares.length;
  }

  /**
   * Adds one share for `nonce`. Returns the threshold of shares once reached (the caller consumes
   * them; the collector is then empty), otherwise undefined.
   */
  add(key: string, nonce: string): Uint8Array[] | undefined {
    if (nonce !== this.nonce) throw new BadRequestError('incorrect nonce');
    const share = decodeUnsealKey(key);
    if (share.length !== this.shareLength) {
      zeroize(share);
      throw new BadRequestError('invalid key: wrong length for a key share');
    }
    if (this.shares.some((s) => timingSafeEqual(s, share))) {
      zeroize(share);
      throw new BadRequestError('given key has already been provided during this operation');
    }
    this.shares.push(share);
    if (this.shares.length < this.threshold) return undefined;
    const complete = this.shares;
    this.shares = [];
    return complete;
  }

  /** Forgets every share collected so far. */
  clear(): void {
    for (const s of this.shares) zeroize(s);
    this.shares = [];
  }
}
