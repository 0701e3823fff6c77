// The real hvac (Debian's python3-hvac) drives init, rekey and generate-root against a real server,
// and decodes encoded_token the way Vault documents (unpadded base64 of token XOR otp).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../../src/server';
import { runPythonCode } from '../helpers/python';


const SCRIPT = `
import base64, json, sys
import hvac
url = sys.argv[1]
c = hvac.Client(url=url)
init = c.sys.initialize(secret_shares=5, secret_threshold=3)
keys = init['keys']
c.sys.submit_unseal_keys(keys[:3])
c.token = init['root_token']
c.adapter.post('/v1/sys/mounts/secret', json={'type': 'kv', 'options': {'version': '2'}})
c.secrets.kv.v2.create_or_update_secret(path='app', secret={'pw': 'survives'}, mount_point='secret')
st = c.sys.start_rekey(secret_shares=3, secret_threshold=2)
done = c.sys.rekey_multi(keys[1:4], nonce=st['nonce'])
new_keys = done['keys']
c.sys.seal()
old = None
try:
    c.sys.submit_unseal_keys(keys[:3])
except hvac.exceptions.InvalidRequest as e:
    old = 'refused'
status = c.sys.submit_unseal_keys(new_keys[:2])
g = c.sys.start_root_token_generation()
otp = g['otp']
assert g['otp_length'] == len(otp), (g['otp_length'], len(otp))
r = None
for k in new_keys[1:3]:
    r = c.sys.generate_root(key=k, nonce=g['nonce'])
enc = r['encoded_token']
raw = base64.b64decode(enc + '=' * (-len(enc) % 4))
token = bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()
c2 = hvac.Client(url=url, token=token)
me = c2.auth.token.lookup_self()['data']
pw = c2.secrets.kv.v2.read_secret_version(path='app', mount_point='secret')['data']['data']['pw']
print(json.dumps({'old': old, 'sealed': status['sealed'], 'n': len(new_keys), 'policies': me['policies'], 'pw': pw, 'token_prefix': token[:4]}))
`;

let dir: string;
let server: RunningServer | undefined;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-hvac-ceremony-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', logLevel: 'silent' });
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// No skip when hvac is missing: `npm test` installs it (scripts/ensure-test-deps.sh), and a real-client
// test that quietly skips proves nothing.
it('hvac rekeys 3-of-5 to 2-of-3 and decodes a generated root token that works', async () => {
  const result = await runPythonCode(SCRIPT, [(server as RunningServer).url]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ old: 'refused', sealed: false, n: 3, policies: ['root'], pw: 'survives', token_prefix: 'hvs.' });
}, 60_000);
