// `csgnet bench`: times a full training step.
import { Option, type Command } from 'commander';
import { int, shapeArg, threadsOption } from '../options.js';
import { MODEL_NAMES } from '../../models/names.js';

export function register(program: Command): void {
  program.command('bench').description('time a full training step (forward, cross-entropy, backward, SGD step)')
    .addOption(new Option('--model <name>', 'architecture').choices([...MODEL_NAMES]).default('resnet20'))
    .option('--batch <n>', 'batch size', int(1), 128)
    .option('--input <CxHxW>', 'input shape', shapeArg, [3, 32, 32])
    .option('--steps <n>', 'timed steps', int(1), 20)
    .option('--warmup <n>', 'untimed steps first', int(0), 3)
    .option('--classes <n>', 'classes', int(2), 10)
    .addOption(threadsOption().default(0))
    .addOption(new Option('--memory-format <f>', 'activation layout').choices(['contiguous_format', 'channels_last']).default('channels_last'))
    .option('--json', 'print one JSON line')
    .action(async (o) => {
      const { benchTrainStep } = await import('../../bench/step.js');
      const r = benchTrainStep({ model: o.model, batch: o.batch, input: o.input, steps: o.steps, warmup: o.warmup, classes: o.classes, threads: o.threads, memoryFormat: o.memoryFormat });
      if (o.json) console.log(JSON.stringify(r));
      else console.log(`${r.model} batch ${r.batch} input ${r.input}: ${r.ms_per_step.toFixed(1)} ms/step, ${r.images_per_s.toFixed(0)} images/s (${r.threads} threads, ${r.memory_format})`);
    });
}
