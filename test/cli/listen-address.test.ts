// `server --listen`: PORT, :PORT and HOST:PORT are accepted; anything else is refused clearly.
import { parseListenAddress } from '../../src/listen-address';
import { startServer } from '../../src/server';

describe('parseListenAddress', () => {
  it.each([
    ['18350', { host: '127.0.0.1', port: 18350 }],
    [':18350', { host: '127.0.0.1', port: 18350 }],
    ['0.0.0.0:8200', { host: '0.0.0.0', port: 8200 }],
    ['localhost:8200', { host: 'localhost', port: 8200 }],
    ['[::1]:8200', { host: '::1', port: 8200 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ])('accepts %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });
  it.each(['localhost', '127.0.0.1', '127.0.0.1:', '127.0.0.1:http', '127.0.0.1:70000', 'a b:80', '::1', ''])('refuses %p with a message saying what is accepted', (text) => {
    expect(() => parseListenAddress(text)).toThrow(/invalid listen address .*(PORT, :PORT or HOST:PORT|between 0 and 65535)/);
  });
  it('a bare port makes the server listen on 127.0.0.1 at that port', async () => {
    const server = await startServer({ dev: true, listen: '0', logLevel: 'silent' });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });
});
