// Spawning the built CLI (dist/src/cli/main.js) from tests: one path, one way to run it.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

/** The compiled CLI entry point, as `csgnet` runs it. */
export const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

export interface CliOptions {
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this many milliseconds. */
  timeout?: number;
  /** Node options placed before the CLI path (e.g. `--require`, a tracer). */
  nodeArgs?: readonly string[];
  cwd?: string;
}

/** Runs `csgnet ...args` to its end; `status`, `stdout` and `stderr` (text) are on the result. */
export function runCli(args: readonly string[], o: CliOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...(o.nodeArgs ?? []), CLI, ...args], { encoding: 'utf8', env: o.env, timeout: o.timeout, cwd: o.cwd });
}

/** Starts `csgnet ...args` in the background (stdio as given; node's default is all pipes). */
export function spawnCli(args: readonly string[], o: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], o);
}
