// Issue 15 item 10: a failed audit write could leave a truncated JSON line. With a real partial
// write (a file size limit lets part of the line in, then EFBIG), the file is cut back to the
// previous line's end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('file audit device: a failed write', () => {
  it('leaves only whole lines in the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-partial-'));
    const file = path.join(dir, 'audit.log');
    try {
      const script = `ulimit -f 1; exec "${process.execPath}" --import tsx test/fixtures/audit-partial-write.ts "$1"`;
      const out = execFileSync('bash', ['-c', script, 'bash', file], { cwd: ROOT, encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual({ error: 'EFBIG' });
      expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ n: 1 })}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
