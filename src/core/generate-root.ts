// sys/generate-root: a new root token from a threshold of unseal key shares, returned XORed with a
// one-time password as Vault does: encoded_token = base64 (unpadded) of (token XOR otp), where the
// OTP is a base62 string as long as a token (`hvs.` + 24 = 28 characters: Vault's otp_length).
import { randomInt } from 'node:crypto';
import { BadRequestError } from '../errors';
import { zeroize } from './barrier';
import type { SealManager } from './seal';
import { ShareCollector } from './share-collector';

/** Vault's OTP length for its `hvs.` service tokens (TokenLength 24 + prefix 4); Leasehold's tokens have the same shape. */
export const OTP_LENGTH = 28;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh base62 OTP of Vault's length. */
export function generateOtp(): string {
  let out = '';
  for (let i = 0; i < OTP_LENGTH; i += 1) out += BASE62[randomInt(BASE62.length)];
  return out;
}

/** base64 (no padding, Go's RawStdEncoding) of the bytewise XOR of two equal-length strings. */
export function encodeToken(token: string, otp: string): string {
  const a = Buffer.from(token, 'utf8');
  const b = Buffer.from(otp, 'utf8');
  if (a.length !== b.length) throw new Error('internal: the token and the OTP differ in length');
  const x = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) x[i] = (a[i] as number) ^ (b[i] as number);
  return x.toString('base64').replace(/=+$/, '');
}

/** The operator's side (`generate-root -decode`): the token from encoded_token and the OTP. */
export function decodeToken(encoded: string, otp: string): string {
  const x = Buffer.from(encoded, 'base64');
  const b = Buffer.from(otp, 'utf8');
  if (x.length !== b.length) throw new BadRequestError('the encoded token and the OTP differ in length');
  const out = Buffer.alloc(x.length);
  for (let i = 0; i < x.length; i += 1) out[i] = (x[i] as number) ^ (b[i] as number);
  return out.toString('utf8');
}

/** sys/generate-root/attempt's status, in Vault's shape. */
export interface GenerateRootStatus {
  started: boolean;
  nonce: string;
  progress: number;
  required: number;
  complete: boolean;
  encoded_token: string;
  encoded_root_token: string;
  pgp_fingerprint: string;
  otp: string;
  otp_length: number;
}

interface Attempt {
  collector: ShareCollector;
  otp: string;
}

/** The one root-token generation in progress (at most one, as in Vault). */
export class GenerateRootCeremony {
  private attempt: Attempt | undefined;

  constructor(
    private readonly seal: SealManager,
    /** Creates and stores a new root token, returning its value. */
    private readonly createRootToken: () => string,
  ) {}

  status(): GenerateRootStatus {
    const a = this.attempt;
    return {
      started: a !== undefined,
      nonce: a?.collector.nonce ?? '',
      progress: a?.collector.progress ?? 0,
      required: a?.collector.threshold ?? this.seal.shareParameters().threshold,
      complete: false,
      encoded_token: '',
      encoded_root_token: '',
      pgp_fingerprint: '',
      otp: '',
      otp_length: OTP_LENGTH,
    };
  }

  /** Starts an attempt with the operator's OTP, or a generated one returned in this answer only. */
  start(otp: string | undefined): GenerateRootStatus {
    if (this.attempt) throw new BadRequestError('root generation already in progress');
    let chosen = otp;
    if (chosen !== undefined && chosen !== '') {
      if (chosen.length !== OTP_LENGTH) throw new BadRequestError(`OTP string is wrong length: it must be ${OTP_LENGTH} characters`);
    } else {
      chosen = generateOtp();
    }
    const current = this.seal.shareParameters();
    this.attempt = { collector: new ShareCollector(current.threshold, current.shareLength), otp: chosen };
    return { ...this.status(), otp: otp ? '' : chosen };
  }

  cancel(): void {
    this.attempt?.collector.clear();
    this.attempt = undefined;
  }

  /** Adds one share; at the threshold a root token is created and returned encoded with the OTP. */
  async update(key: string, nonce: string): Promise<GenerateRootStatus> {
    const a = this.attempt;
    if (!a) throw new BadRequestError('no root generation in progress');
    const shares = a.collector.add(key, nonce);
    if (!shares) return this.status();
    this.attempt = undefined;
    zeroize(await this.seal.recoverRootKey(shares, 'root generation'));
    const token = this.createRootToken();
    const encoded = encodeToken(token, a.otp);
    return { ...this.status(), started: true, nonce: a.collector.nonce, progress: a.collector.threshold, required: a.collector.threshold, complete: true, encoded_token: encoded, encoded_root_token: encoded };
  }
}
