#!/usr/bin/env node
// The csgnet command line: one module per command under ./commands, registered in the order --help
// lists them. Startup loads no libtorch (and no other native addon): the modules that compute are
// imported inside the actions that need them, so --help, --version, mis and compare on analysed runs
// start at Node's speed.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useNumThreads } from '../torch/threads.js';
import { packageRoot } from '../util/paths.js';
import { stderrLine } from './format.js';
import * as train from './commands/train.js';
import * as evalCommand from './commands/eval.js';
import * as features from './commands/features.js';
import * as gate from './commands/gate.js';
import * as bench from './commands/bench.js';
import * as demo from './commands/demo.js';
import * as analyze from './commands/analyze.js';
import * as localize from './commands/localize.js';
import * as mis from './commands/mis.js';
import * as compare from './commands/compare.js';
import * as report from './commands/report.js';
import * as data from './commands/data.js';
import * as dashboard from './commands/dashboard.js';
import * as info from './commands/info.js';
import * as adversarial from './commands/adversarial.js';
import * as exportCommand from './commands/export.js';
import * as explore from './commands/explore.js';
import * as sweep from './commands/sweep.js';
import * as explain from './commands/explain.js';

const COMMANDS: { register(program: Command): void }[] = [
  train, evalCommand, features, gate, bench, demo, analyze, localize, explain, mis, compare, report, data, dashboard, info, adversarial, exportCommand, explore, sweep,
];

const program = new Command();
program.name('csgnet').description('Interpretable CNNs with class-specific gates (CSG), trained over libtorch')
  .version(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version, '-V, --version', 'print the csgnet version')
  .showHelpAfterError('(run with --help for usage)');
// --threads N on any command: libtorch's intra-op threads, set when (and if) the action loads libtorch.
program.hook('preAction', (_program, command) => {
  const n = command.opts().threads;
  if (typeof n === 'number' && n > 0) useNumThreads(n);
});
for (const c of COMMANDS) c.register(program);

program.parseAsync(process.argv).catch((e: Error) => {
  stderrLine(`csgnet: ${e.message}`);
  if (process.env.CSGNET_DEBUG) stderrLine(`${e.stack}`);
  process.exit(1);
});
