// The file sink's safety checks and synchronous, failing-loudly writes, on real files.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadRequestError } from '../../src/errors';
import { FileDevice, parseFileDeviceOptions } from '../../src/core/audit/file-device';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const device = (file_path: string, extra: Record<string, string> = {}) => new FileDevice(parseFileDeviceOptions({ file_path, ...extra }));

describe('file audit device options', () => {
  it('requires an absolute file_path, or stdout/discard', () => {
    expect(() => parseFileDeviceOptions({})).toThrow(BadRequestError);
    expect(() => parseFileDeviceOptions({ file_path: 'audit.log' })).toThrow(/absolute/);
    expect(() => parseFileDeviceOptions({ file_path: './audit.log' })).toThrow(/absolute/);
    expect(parseFileDeviceOptions({ file_path: 'stdout' }).filePath).toBe('stdout');
    expect(parseFileDeviceOptions({ file_path: 'discard' }).filePath).toBe('discard');
    expect(parseFileDeviceOptions({ path: '/tmp/x.log' }).filePath).toBe('/tmp/x.log');
  });

  it('refuses modes with an execute bit or the world-write bit', () => {
    for (const mode of ['0700', '0610', '0601', '0755', '0777', '0602', '0666', '4600', 'rw', '08']) {
      expect(() => parseFileDeviceOptions({ file_path: '/tmp/x', mode })).toThrow(BadRequestError);
    }
    expect(parseFileDeviceOptions({ file_path: '/tmp/x', mode: '0640' }).modeBits).toBe(0o640);
    expect(parseFileDeviceOptions({ file_path: '/tmp/x', mode: '0000' }).modeBits).toBe(0);
    expect(parseFileDeviceOptions({ file_path: '/tmp/x' }).modeBits).toBe(0o600);
  });
});

describe('file audit device', () => {
  it('creates the file with mode 0600 and appends whole lines synchronously', () => {
    const file = path.join(dir, 'audit.log');
    const d = device(file);
    d.open();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    d.write('one\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('one\n');
    d.write('two\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    d.close();
  });

  it('appends to an existing file and applies the configured mode', () => {
    const file = path.join(dir, 'audit.log');
    fs.writeFileSync(file, 'old\n', { mode: 0o644 });
    const d = device(file, { mode: '0640' });
    d.open();
    d.write('new\n');
    d.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('old\nnew\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  it('leaves the mode alone with mode 0000', () => {
    const file = path.join(dir, 'audit.log');
    fs.writeFileSync(file, '', { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    const d = device(file, { mode: '0000' });
    d.open();
    d.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
  });

  it('refuses a symlink as the final component, even to a safe file', () => {
    const target = path.join(dir, 'real.log');
    fs.writeFileSync(target, '', { mode: 0o600 });
    const link = path.join(dir, 'link.log');
    fs.symlinkSync(target, link);
    expect(() => device(link).open()).toThrow(/symbolic link/);
    const dangling = path.join(dir, 'dangling.log');
    fs.symlinkSync(path.join(dir, 'nowhere.log'), dangling);
    expect(() => device(dangling).open()).toThrow(/symbolic link/);
    expect(fs.existsSync(path.join(dir, 'nowhere.log'))).toBe(false);
  });

  it('refuses a directory', () => {
    expect(() => device(dir).open()).toThrow(/directory/);
  });

  it('refuses an existing executable or world-writable file', () => {
    const exec = path.join(dir, 'exec.log');
    fs.writeFileSync(exec, '');
    fs.chmodSync(exec, 0o700);
    expect(() => device(exec).open()).toThrow(/executable/);
    fs.chmodSync(exec, 0o610);
    expect(() => device(exec).open()).toThrow(/executable/);
    const open = path.join(dir, 'open.log');
    fs.writeFileSync(open, '');
    fs.chmodSync(open, 0o602);
    expect(() => device(open).open()).toThrow(/world-writable/);
    // Refused files are left as they were.
    expect(fs.statSync(open).mode & 0o777).toBe(0o602);
  });

  it('refuses a FIFO without blocking', () => {
    const fifo = path.join(dir, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    expect(() => device(fifo).open()).toThrow(/not a regular file/);
  });

  it('refuses a missing parent directory', () => {
    expect(() => device(path.join(dir, 'missing', 'audit.log')).open()).toThrow(/ENOENT/);
  });

  it('allows character devices; a failing write throws', () => {
    const nul = device('/dev/null');
    nul.open();
    nul.write('gone\n');
    nul.close();
    if (!fs.existsSync('/dev/full')) return;
    const full = device('/dev/full');
    full.open();
    expect(() => full.write('line\n')).toThrow(/ENOSPC/);
    full.close();
  });

  it('discards on `discard`', () => {
    const d = device('discard');
    d.open();
    d.write('nothing\n');
    d.close();
  });

  it('reopens after rotation and keeps the old file if the new one cannot open', () => {
    const file = path.join(dir, 'audit.log');
    const d = device(file);
    d.open();
    d.write('a\n');
    fs.renameSync(file, `${file}.1`);
    d.write('b\n');
    d.reopen();
    d.write('c\n');
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe('a\nb\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('c\n');
    fs.renameSync(file, `${file}.2`);
    fs.mkdirSync(file);
    expect(() => d.reopen()).toThrow(/directory/);
    d.write('d\n');
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toBe('c\nd\n');
    d.close();
  });
});
