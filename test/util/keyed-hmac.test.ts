// KeyedHmac is byte-for-byte createHmac('sha256'), as hex and as bytes; the token store's hash stays the
// one tokens were stored under before (createHmac under the token sub-key), across seal and unseal.
import { createHmac } from 'node:crypto';
import { TokenStore } from '../../src/core/tokens';
import { ManualClock } from '../../src/util/clock';
import { KeyedHmac } from '../../src/util/keyed-hmac';
import { memoryStorage } from '../helpers/backend';

const VALUES = ['', 'a', 'hvs.ABCDEFGHIJKLMNOPQRSTUVWX', 'ünïcødé ✓ 🔑', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'w'.repeat(5000)];

describe('KeyedHmac', () => {
  it('equals createHmac for key lengths around the block size and any value', () => {
    for (const length of [0, 1, 32, 63, 64, 65, 129]) {
      const key = Uint8Array.from({ length }, (_, i) => (i * 7 + length) & 0xff);
      const keyed = new KeyedHmac(key);
      for (const value of VALUES) {
        const expected = createHmac('sha256', Buffer.from(key)).update(value, 'utf8').digest();
        expect(keyed.digest(value).equals(expected)).toBe(true);
        expect(keyed.hex(value)).toBe(expected.toString('hex'));
      }
    }
  });

  it('no longer computes the keyed HMAC once destroyed (its padded key blocks are zeroed)', () => {
    const key = new Uint8Array(32).fill(9);
    const keyed = new KeyedHmac(key);
    keyed.destroy();
    expect(keyed.hex('v')).not.toBe(createHmac('sha256', Buffer.from(key)).update('v').digest('hex'));
  });

  it('gives the token store the hash tokens were always stored under, before and after a cache clear', () => {
    const store = memoryStorage();
    const tokens = new TokenStore({ db: store.db, barrier: store.barrier, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    const legacy = (token: string) => createHmac('sha256', store.barrier.subKey('token-hmac-v1')).update(token).digest();
    for (const token of VALUES) expect(tokens.hash(token).equals(legacy(token))).toBe(true);
    tokens.clearCache();
    expect(tokens.hash('hvs.after').equals(legacy('hvs.after'))).toBe(true);
  });
});
