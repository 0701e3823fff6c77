import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Barrier, generateKey, openRecord, sealRecord, xchachaDecrypt, xchachaEncrypt } from '../src/core/barrier';
import { memoryStorage } from './helpers/backend';
import { BarrierIntegrityError, SealedError } from '../src/errors';

const enc = new TextEncoder();

describe('barrier records', () => {
  it('round-trips and binds the record to its location', () => {
    const key = generateKey();
    const record = sealRecord(key, 1, 'logical/a/secret', enc.encode('hunter2'));
    expect(Buffer.from(openRecord(key, 'logical/a/secret', record)).toString()).toBe('hunter2');
    expect(() => openRecord(key, 'logical/a/other', record)).toThrow(BarrierIntegrityError);
  });

  it('fails closed on any flipped byte', () => {
    const key = generateKey();
    const record = sealRecord(key, 1, 'p', enc.encode('value'));
    for (let i = 0; i < record.length; i++) {
      const copy = record.slice();
      copy[i] = (copy[i] as number) ^ 0x01;
      expect(() => openRecord(key, 'p', copy)).toThrow(BarrierIntegrityError);
    }
  });

  it('a record copied to another row does not decrypt', () => {
    const store = memoryStorage();
    store.put('logical/x/a', enc.encode('secret-a'));
    const row = store.db.prepare('SELECT value FROM entries WHERE path = ?').get('logical/x/a') as { value: Buffer };
    store.db.prepare('INSERT INTO entries (path, value) VALUES (?, ?)').run('logical/x/b', row.value);
    expect(() => store.get('logical/x/b')).toThrow(BarrierIntegrityError);
    expect(Buffer.from(store.get('logical/x/a') as Uint8Array).toString()).toBe('secret-a');
  });

  it('old terms still decrypt after rotation and new writes use the new term', () => {
    const store = memoryStorage();
    store.put('k1', enc.encode('one'));
    store.barrier.rotate(1000);
    store.put('k2', enc.encode('two'));
    const raw = (p: string) => (store.db.prepare('SELECT value FROM entries WHERE path = ?').get(p) as { value: Buffer }).value;
    expect(raw('k1').readUInt32BE(1)).toBe(1);
    expect(raw('k2').readUInt32BE(1)).toBe(2);
    expect(Buffer.from(store.get('k1') as Uint8Array).toString()).toBe('one');
    expect(store.barrier.status().term).toBe(2);
  });

  it('zeroes key bytes on seal and refuses to work sealed', () => {
    const barrier = new Barrier();
    const key = generateKey();
    const seed = generateKey();
    barrier.unseal({ activeTerm: 1, terms: [{ term: 1, key, installedAtMs: 0 }], derivationSeed: seed });
    const sub = barrier.subKey('token');
    barrier.seal();
    expect(key.every((b) => b === 0)).toBe(true);
    expect(seed.every((b) => b === 0)).toBe(true);
    expect(sub.every((b) => b === 0)).toBe(true);
    expect(() => barrier.encrypt('p', enc.encode('x'))).toThrow(SealedError);
  });
});

describe('the XChaCha20-Poly1305 implementation', () => {
  it('is byte-for-byte @noble/ciphers xchacha20poly1305, both ways, for many sizes', () => {
    for (const size of [0, 1, 15, 16, 63, 64, 65, 1000, 70_000]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const aad = randomBytes(size % 50);
      const plaintext = randomBytes(size);
      const ours = xchachaEncrypt(key, nonce, aad, plaintext);
      const noble = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
      expect(Buffer.from(ours).equals(Buffer.from(noble))).toBe(true);
      expect(Buffer.from(xchachaDecrypt(key, nonce, aad, noble)).equals(plaintext)).toBe(true);
      expect(Buffer.from(xchacha20poly1305(key, nonce, aad).decrypt(ours)).equals(plaintext)).toBe(true);
      const tampered = Buffer.from(ours);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
      expect(() => xchachaDecrypt(key, nonce, aad, tampered)).toThrow();
    }
  });
});
