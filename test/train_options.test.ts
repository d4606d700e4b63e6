// The train options table (src/csg/train_options.ts) is the one source of the train flags, the
// configuration they make, the resume rules and the sweep's keys; the CLI is one file per command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from '../src/util/paths.js';
import { PRESETS } from '../src/csg/config.js';
import { RESUMABLE_KEYS, RESUME_FLAGS, TRAIN_OPTIONS, configFromOptions, longFlag, optionName, type TrainOption } from '../src/csg/train_options.js';
import { SWEEP_KEYS } from '../src/app/sweep.js';
import { CLI } from './support/cli.js';

const root = packageRoot();
const rows: readonly TrainOption[] = TRAIN_OPTIONS;

test('train --help lists exactly the table\'s flags, in its order', () => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'train', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const listed = [...r.stdout.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
  const expected = rows.filter((o) => !o.hidden).flatMap((o) => o.type.kind === 'bool' && o.type.no ? [longFlag(o), `--no-${longFlag(o).slice(2)}`] : [longFlag(o)]);
  assert.deepEqual(listed, expected);
});

test('a sweep key sets the config as the train flag does', () => {
  const sample = { number: 0.25, int: 2, bool: false } as const;
  for (const [name, key] of Object.entries(SWEEP_KEYS)) {
    const row = rows.find((o) => longFlag(o) === key.flag)!;
    assert.ok(row?.sweep, `${name}: ${key.flag} is a sweep row of the table`);
    for (const preset of Object.keys(PRESETS)) {
      const v = key.kind === 'string' ? key.choices!.at(-1)! : sample[key.kind];
      const bySweep = structuredClone(PRESETS[preset]!);
      key.set(bySweep, v);
      if (name === 'gateLr' && !bySweep.gate) continue; // train refuses --gate-lr without a gate optimizer
      assert.deepEqual(configFromOptions({ preset, hflip: true, [optionName(row)]: v }), bySweep, `${preset}: ${key.flag} ${v}`);
      assert.equal(key.get(bySweep), v);
    }
  }
});

test('the resume rules come from the table: its resumable config keys and flags', () => {
  assert.deepEqual(RESUMABLE_KEYS, ['epochs', 'threads', 'workers', 'checkpointEvery']);
  for (const k of RESUMABLE_KEYS) assert.ok(RESUME_FLAGS.includes(longFlag(rows.find((o) => o.key === k)!)));
  assert.ok(!RESUME_FLAGS.includes('--lr') && RESUME_FLAGS.includes('--stop-after'));
  assert.throws(() => configFromOptions({ preset: 'voc-part', gateLr: 0.1 }), /--gate-lr needs a gate optimizer/);
});

const cliFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => e.isDirectory() ? cliFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);

test('the CLI: one file per command, each registered by register(program); none over 400 lines; progress drawn in progress.ts only', () => {
  const cli = join(root, 'src', 'cli');
  const commands = readdirSync(join(cli, 'commands')).filter((f) => f.endsWith('.ts'));
  for (const f of commands) assert.match(readFileSync(join(cli, 'commands', f), 'utf8'), /^export function register\(program: Command\): void/m, f);
  const main = readFileSync(join(cli, 'main.ts'), 'utf8');
  for (const f of commands) assert.match(main, new RegExp(`from './commands/${f.replace('.ts', '.js')}'`), `main.ts registers ${f}`);
  for (const f of cliFiles(cli)) {
    const text = readFileSync(f, 'utf8');
    assert.ok(text.split('\n').length <= 400, `${f}: ${text.split('\n').length} lines`);
    if (!f.endsWith('progress.ts')) assert.doesNotMatch(text, /\\x1b\[|\\r/, `${f} draws progress itself`);
  }
});
