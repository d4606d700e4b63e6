// `csgnet adversarial`: attacks, Gaussian-noise controls and detectors on a run (src/app/adversarial.ts).
import type { Command } from 'commander';
import { addRunOptions, int, num, numList, progressOption, threadsOption } from '../options.js';
import { ADVERSARIAL_DEFAULTS as D } from '../../app/defaults.js';
import { stderrLine } from '../format.js';
import { ATTACK_NAMES } from '../../attack/names.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function register(program: Command): void {
  addRunOptions(program.command('adversarial')
    .description('attack a run (FGSM, BIM, PGD, PGD-L2, CW; on request DeepFool, APGD, Square, AutoAttack) and score adversarial-sample detectors (gate consistency, CSG-LR, Mahalanobis, ' +
      'feature squeezing, KD+BU, LID) as Lee et al. -> DIR/adversarial.json, adversarial.md, roc.svg/png, examples.png'),
  { images: true, limit: `only the first N images of the split (the correctly classified ones are attacked); default ${D.limit}, ` +
    '0 = the whole split (10,000 Fashion-MNIST test images: up to 170,000 attacked image-settings with the default flags, hours on a CPU)' })
    .option('--out <dir>', 'output folder (default RUN/adversarial, where `csgnet compare` looks), replaced as a whole when the run completes; ' +
      'a stopped run (Ctrl-C) writes nothing and a rerun starts from scratch')
    .option('--attacks <list>', `comma-separated attacks, of: ${ATTACK_NAMES.join(', ')} (torchattacks' semantics and defaults; ` +
      'apgd-t is AutoAttack\'s targeted APGD; autoattack is the standard APGD-CE, APGD-T, Square sequence without FAB-T, a documented subset)',
    D.attacks.join(','))
    .option('--eps <list>', 'comma-separated Linf radii in pixel units of fgsm, bim, pgd, apgd-*, square, autoattack and the adaptive PGD ' +
      '(cw and deepfool have none)', numList, [...D.eps])
    .option('--l2-eps <list>', 'comma-separated L2 radii of pgd-l2 (default 2 for grey images, 0.5 for colour); CW has none', numList)
    .option('--detectors <list>', `comma-separated detectors: ${D.detectors.join(', ')}`, D.detectors.join(','))
    .option('--fit-fraction <f>', 'fraction of the images whose samples fit the detectors (the rest is reported)', num({ min: 0, max: 0.99, exclusiveMin: true }), D.fitFraction)
    .option('--seed <n>', 'seed of the split, the noise and the random starts', int(0), D.seed)
    .option('--fit-train-limit <n>', 'training images for the detectors\' statistics (Mahalanobis, kdbu densities, STD assignment): the first N of those the run trained on (its --limit, without its val part)', int(1), D.fitTrainLimit)
    .option('--kd-bandwidth <h>', 'kdbu\'s Gaussian kernel bandwidth on the GAP features (default 1.2 for grey images, 0.26 for colour: Feinman et al.\'s MNIST and CIFAR-10)', num({ min: 0, exclusiveMin: true }))
    .option('--lid-k <n>', 'lid\'s nearest neighbours among each minibatch of 100 clean images (Ma et al.)', int(1), 20)
    .option('--adaptive-weights <list>', 'weights w of the adaptive PGD on the gate detector (maximizes CE + w * s(x))', numList, [...D.adaptiveWeights])
    .option('--no-adaptive', 'skip the adaptive attack')
    .option('--no-transfer', 'skip the transfer runs (fit on FGSM, test on PGD and CW)')
    .option('--batch <n>', 'images per batch', int(1), D.batchSize)
    .option('--save-adversarial', 'also write DIR/npy/<attack>_eps<e>.npy [M, C, H, W] float32, indices.npy and labels.npy of the M attacked images')
    .addOption(progressOption())
    .addOption(threadsOption())
    .action(async (o) => {
      const { adversarialRun } = await import('../../app/adversarial.js');
      const { adversarialMarkdown } = await import('../../app/adversarial_report.js');
      const { countProgress } = await import('../progress.js');
      const { onStopSignals } = await import('../signals.js');
      const log = stderrLine;
      let bar: ReturnType<typeof countProgress> | null = null;
      const stop = onStopSignals(log, { stopping: 'stopping after this batch; nothing is written and a rerun starts from scratch' });
      const r = await adversarialRun({
        run: o.run, checkpoint: o.checkpoint, split: o.split, limit: o.limit, out: o.out, signal: stop.signal,
        attacks: list(o.attacks), eps: o.eps, l2Eps: o.l2Eps, detectors: list(o.detectors), fitFraction: o.fitFraction, seed: o.seed,
        fitTrainLimit: o.fitTrainLimit, kdBandwidth: o.kdBandwidth, lidK: o.lidK, adaptiveWeights: o.adaptive ? o.adaptiveWeights : [], transfer: o.transfer,
        batchSize: o.batch, saveAdversarial: !!o.saveAdversarial, log,
        progress: (done, total) => { bar ??= countProgress(o.progress, 'attack', total, log); bar.update(done); },
      }).catch((e: Error) => { if (!stop.received()) throw e; return e; }).finally(() => stop.dispose());
      (bar as ReturnType<typeof countProgress> | null)?.stop();
      if (r instanceof Error) { log(r.message); process.exitCode = stop.exitCode(); return; } // stopped: the library says what was kept
      const { report, files } = r;
      console.log(adversarialMarkdown(report));
      console.log(`wrote ${files.join(', ')}`);
    });
}
