// `csgnet train`: its flags are the rows of src/csg/train_options.ts (one row per option), made into
// commander options here.
import { Option, type Command } from 'commander';
import { int, num, numList, trainTop } from '../options.js';
import { validateConfig } from '../../csg/config.js';
import { RESUME_FLAGS, TRAIN_OPTIONS, configFromOptions, longFlag, resumeOverrides, type TrainOption } from '../../csg/train_options.js';

/** A table row as commander options (two for a switch with a `--no-` form). */
function toOptions(row: TrainOption): Option[] {
  const o = new Option(row.flag, row.help);
  const t = row.type;
  if (t.kind === 'int') o.argParser(int(t.min));
  else if (t.kind === 'number') o.argParser(num(t));
  else if (t.kind === 'choice') o.choices([...t.choices]);
  else if (t.kind === 'numList') o.argParser(numList);
  else if (t.kind === 'trainTop') o.argParser(trainTop);
  if (row.default !== undefined) o.default(row.default);
  if (row.required) o.makeOptionMandatory();
  if (row.hidden) o.hideHelp();
  return t.kind === 'bool' && t.no ? [o, new Option(`--no-${longFlag(row).slice(2)}`, t.no)] : [o];
}

export function register(program: Command): void {
  const cmd = program.command('train').description('train an STD or CSG model; writes RUN_DIR/{config.json,metrics.jsonl,events.jsonl,checkpoints/}');
  for (const row of TRAIN_OPTIONS as readonly TrainOption[]) for (const o of toOptions(row)) cmd.addOption(o);
  cmd.action(async (o, cmd: Command) => {
    // Before any work (and before --nproc starts ranks): a CSG run whose schedule never gates is refused.
    const { noCsgEpochReason } = await import('../../csg/schedule.js');
    const planned = o.resume ? null : configFromOptions(o);
    const noCsg = planned && noCsgEpochReason(planned.epochs, planned);
    if (noCsg && !o.allowNoCsg) throw new Error(`${noCsg}; train more epochs, or pass --allow-no-csg to train it anyway`);
    if (o.checkFlags) {
      if (planned) validateConfig(planned);
      return;
    }
    const { distributedEnv } = await import('../../app/launch.js');
    const denv = distributedEnv(process.env);
    if (o.nproc > 1) {
      if (denv) throw new Error(`--nproc ${o.nproc} starts its own processes, but this process is already rank ${denv.rank} of ${denv.worldSize} (${denv.source === 'slurm' ? 'SLURM_NTASKS' : 'WORLD_SIZE'} is set); use one or the other`);
      const { launchTrain } = await import('../launch.js');
      process.exitCode = await launchTrain(o.nproc, cmd.getOptionValueSource('threads') === 'cli');
      return;
    }
    const { trainRank } = await import('../launch.js');
    await trainRank(denv, o.distTimeout, async (group, log) => {
      const { Trainer, combineEvents } = await import('../../csg/trainer.js');
      const { eventsLog } = await import('../../csg/events_log.js');
      const { progressEvents } = await import('../progress.js');
      const { onStopSignals } = await import('../signals.js');
      const leader = !group || group.rank === 0;
      let trainer;
      if (o.resume) {
        // A resumed run keeps its configuration: flags that may change are applied, the rest refused by name.
        const given = cmd.options.filter((opt) => cmd.getOptionValueSource(opt.attributeName()) === 'cli');
        const refused = given.filter((opt) => !RESUME_FLAGS.includes(opt.long!)).map((opt) => opt.long);
        if (refused.length) {
          throw new Error(`--resume continues the run with its own configuration; ${refused.join(', ')} cannot change ` +
            `(allowed with --resume: ${RESUME_FLAGS.filter((f) => f !== '--out' && f !== '--resume').join(', ')})`);
        }
        trainer = await Trainer.resume({ outDir: o.out, log, group, overrides: resumeOverrides(o) });
        if (trainer.epoch >= trainer.config.epochs) {
          trainer.close();
          log(`${o.out}: the run is finished (${trainer.epoch}/${trainer.config.epochs} epochs); nothing to do (--resume --epochs N extends it)`);
          return;
        }
        log(`resuming ${o.out} at epoch ${trainer.epoch}, batch ${trainer.nextBatch} of ${trainer.config.epochs} epochs`);
      } else {
        if (noCsg && leader) log(`warning (--allow-no-csg): ${noCsg}`);
        trainer = await Trainer.create({ ...configFromOptions(o), worldSize: group?.worldSize ?? 1 }, { outDir: o.out, log, group });
      }
      // A rank started by `--nproc` gets the terminal's Ctrl-C and the launcher's copy of it: one request.
      const stop = onStopSignals(log, { repeatWindowMs: process.env.CSGNET_LAUNCHED ? 2000 : 0 });
      try {
        // The progress display and RUN_DIR/events.jsonl (what `csgnet dashboard` follows) watch the same events.
        const events = leader ? combineEvents(progressEvents(o.progress, log), eventsLog(trainer.runDir, { log })) : {};
        const r = await trainer.run({ stopAfterEpochs: o.stopAfter, signal: stop.signal, events });
        if (r.interrupted) process.exitCode = stop.exitCode();
      } finally {
        stop.dispose();
        trainer.close();
      }
    });
  });
}
