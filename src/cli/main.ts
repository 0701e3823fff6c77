#!/usr/bin/env node
// The `leasehold` executable: runs the CLI on the process arguments.
import { runCli } from './program';

runCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
