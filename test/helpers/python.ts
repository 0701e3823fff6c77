// Runs a Python script with Debian's python3 (where python3-hvac is installed; see
// scripts/ensure-test-deps.sh) and returns its exit code and output.
import { execFile } from 'node:child_process';

/** The interpreter with hvac: the system one, not whatever `python3` is first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Runs `script` with `env` added to a minimal environment. Never rejects: the caller asserts on the code. */
export function runPython(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return runSystemPython([script], env);
}

/** Runs Python source given inline (`python3 -c code args...`), as runPython does a file. */
export function runPythonCode(code: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return runSystemPython(['-c', code, ...args], env);
}

function runSystemPython(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SYSTEM_PYTHON, argv, { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
