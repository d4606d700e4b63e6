// DeepFool, APGD (CE, DLR, L2, targeted), Square and AutoAttack (src/attack) against torchattacks itself:
// scripts/golden/attacks_extra.py runs torchattacks' own classes (Harry24k/adversarial-attacks-pytorch at the
// commit in the metadata) on attacks.py's seeded LeNet and 8 images. torchattacks seeds torch's RNG at every
// call and csgnet seeds libtorch's the same way, so even the random attacks are compared elementwise; the
// per-image success must match exactly and the distances to float32 rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, goldenPath } from './helpers.js';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { LeNet } from '../src/models/index.js';
import {
  APGD, APGDDLR, APGDT, AutoAttack, DeepFool, PixelModel, Square, createAttack, defaultAttackOptions, perImageNorms, runAttack, summarizeAttack,
  type Attack, type AttackOptions,
} from '../src/attack/index.js';

// single-threaded as the golden script: the same reduction order, and an 8-image batch gains nothing from threads
torch.setNumThreads(1);
const { tensors: T, metadata } = loadSafetensors(goldenPath('attacks_extra.safetensors'));
const S = JSON.parse(metadata.settings!) as Record<string, number>;
const report = JSON.parse(metadata.report!) as Record<string, { success: number[]; linf: number[]; l2: number[] }>;
const nums = (t: Tensor): number[] => Array.from(t.toFloat64Array());

const net = new LeNet({ inChannels: 1, numClasses: 10, filters: [8, 16] });
net.loadStateDict(Object.fromEntries(Object.entries(T).filter(([k]) => k.startsWith('w.')).map(([k, v]) => [k.slice(2), v])));
net.eval();
const model = new PixelModel(net, [Number(metadata.mean)], [Number(metadata.std)]);
const x = T.x!, labels = T.labels!;

/**
 * The attack's output equals torchattacks' elementwise (atol), with the same per-image success and distances.
 * `tie`: an image whose golden adversarial has its top two logits closer than this sits on the decision
 * boundary (DeepFool converges onto it), where float32 rounding decides the class: its success is not compared.
 */
function matches(attack: Attack, key: string, atol: number, tie = 0): { queries: number } {
  const r = runAttack(attack, x, labels);
  try {
    const ref = report[key]!;
    const gap = torch.tidy(() => nums(model.logits(T[key]!).topk(2, 1)[0].select(1, 0).sub(model.logits(T[key]!).topk(2, 1)[0].select(1, 1))));
    for (let i = 0; i < 8; i++) if (gap[i]! >= tie) assert.equal(r.success[i], ref.success[i], `${key}: success of image ${i} (top-2 gap ${gap[i]})`);
    const diff = torch.tidy(() => r.adv.sub(T[key]!).abs().max().item());
    assert.ok(diff <= atol, `${key}: largest elementwise difference from torchattacks ${diff} > ${atol}`);
    assertClose(r.linf, ref.linf, atol, 0, `${key}: Linf`);
    assertClose(r.l2, ref.l2, 10 * atol, 1e-5, `${key}: L2`);
    return { queries: r.queries };
  } finally {
    r.adv.dispose();
  }
}

test('the golden was produced by torchattacks itself, at the pinned commit', () => {
  const prov = JSON.parse(metadata.provenance!) as Record<string, { reference: string; commit: string; produced_by: string }>;
  for (const k of ['deepfool', 'apgd_ce', 'apgd_dlr', 'apgd_ce_l2', 'apgdt', 'square', 'autoattack_subset']) {
    assert.deepEqual([prov[k]!.reference, prov[k]!.commit, prov[k]!.produced_by], ['Harry24k/adversarial-attacks-pytorch', '23620a694a3660e4f194c3e4d28992bced7785a1', 'reference']);
  }
  assert.deepEqual(nums(model.predict(x)), nums(labels));
});

test('DeepFool matches torchattacks elementwise (50 steps, and stopped after 3)', () => {
  matches(new DeepFool(model, { steps: S.deepfool_steps, overshoot: S.deepfool_overshoot }), 'deepfool', 1e-5, 1e-4);
  matches(new DeepFool(model, { steps: 3 }), 'deepfool_steps3', 1e-5);
});

test('APGD-CE, APGD-DLR (Linf), APGD-CE (L2) and APGD-T match torchattacks elementwise, random start included', () => {
  const o = { eps: S.apgd_eps, steps: S.apgd_steps, seed: 0 };
  const ce = matches(new APGD(model, o), 'apgd_ce', 1e-5);
  // queries: the clean forward, then start + steps forwards for each correctly classified image
  assert.equal(ce.queries, 8 + 8 * (1 + S.apgd_steps!));
  matches(new APGDDLR(model, o), 'apgd_dlr', 1e-5);
  matches(new APGD(model, { ...o, eps: S.apgd_l2_eps, norm: 'L2' }), 'apgd_ce_l2', 1e-5);
  matches(new APGDT(model, o), 'apgdt', 1e-5);
});

test('Square (Linf) matches torchattacks elementwise: same squares, same per-image acceptance', () => {
  const q = matches(new Square(model, { eps: S.square_eps, nQueries: S.square_queries, seed: 0 }), 'square', 1e-6);
  assert.ok(q.queries > 8 && q.queries <= 8 * (S.square_queries! + 3), `queries ${q.queries}`);
});

test('autoattack equals torchattacks\' APGD-CE, APGD-T, Square sequence (AutoAttack standard without FAB-T)', () => {
  // Square's budget is cut (autoattack_queries) in the golden too: 5000 queries on the images nothing fools take minutes
  matches(new AutoAttack(model, { eps: S.autoattack_eps, nQueries: S.autoattack_queries, seed: 0 }), 'autoattack_subset', 1e-5);
  // here FAB-T and the full 5000 queries fool nothing more: the full torchattacks AutoAttack has the same success
  assert.deepEqual(report.autoattack_full!.success, report.autoattack_subset!.success);
});

test('seeding: the same result at every call, and the caller\'s torch RNG state is left as it was', () => {
  const a = new APGD(model, { eps: 0.01, steps: 3, seed: 5 });
  torch.manualSeed(123);
  const before = torch.tidy(() => nums(torch.rand([3])));
  torch.manualSeed(123);
  const [p, q] = [a.perturb(x, labels), a.perturb(x, labels)];
  const after = torch.tidy(() => nums(torch.rand([3])));
  assert.ok(p.equal(q), 'torchattacks reseeds at every call');
  assert.deepEqual(after, before, 'the global RNG continues as if no attack had run');
  const other = new APGD(model, { eps: 0.01, steps: 3, seed: 6 }).perturb(x, labels);
  assert.ok(!p.equal(other), 'another seed, another start');
  for (const t of [p, q, other]) t.dispose();
});

test('runAttack and summarizeAttack report queries and time', () => {
  const r = runAttack(new DeepFool(model, { steps: 2 }), x, labels);
  assert.ok(r.queries >= 8 && r.queries <= 16, `deepfool 2 steps: ${r.queries} queries`);
  assert.ok(r.seconds > 0);
  const s = summarizeAttack([r, r]);
  assert.equal(s.queriesPerImage, r.queries / 8);
  assert.equal(s.seconds, 2 * r.seconds);
  assert.ok(Number.isNaN(summarizeAttack([{ success: r.success, linf: r.linf, l2: r.l2 }]).queriesPerImage), 'not counted: NaN');
  r.adv.dispose();
});

test('registry, defaults and refusals of the new attacks', () => {
  const grey = { channels: 1, height: 28 };
  assert.deepEqual(defaultAttackOptions('deepfool', grey), { steps: 50, overshoot: 0.02 });
  assert.deepEqual(defaultAttackOptions('apgd-ce', grey, 0.1), { eps: 0.1, steps: 10, rho: 0.75 });
  assert.deepEqual(defaultAttackOptions('square', grey), { eps: 0.3, nQueries: 5000, pInit: 0.8 });
  assert.deepEqual(defaultAttackOptions('autoattack', grey), { eps: 0.3, steps: 10, nQueries: 5000 });
  for (const n of ['deepfool', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'square', 'autoattack'] as const) assert.equal(createAttack(n, model, defaultAttackOptions(n, grey)).name, n);
  const bad: [new (m: PixelModel, o: AttackOptions) => Attack, AttackOptions, RegExp][] = [
    [APGD, { targeted: true }, /apgd-ce: targeted is not supported/],
    [APGD, { startNoise: x }, /apgd-ce: the startNoise option is not supported/],
    [DeepFool, { targeted: true }, /deepfool: targeted is not supported/],
    [Square, { norm: 'L2' }, /square: only the Linf norm/],
    [Square, { nQueries: 0 }, /nQueries must be an integer >= 1/],
    [AutoAttack, { loss: (_x, z) => z.sum() }, /autoattack: the loss option is not supported/],
  ];
  for (const [A, o, re] of bad) assert.throws(() => new A(model, o), re);
});

test('no tensors leak over repeated runs of the new attacks', () => {
  const attacks = [new DeepFool(model, { steps: 3 }), new APGD(model, { eps: 0.01, steps: 5 }), new APGDT(model, { eps: 0.01, steps: 3 }),
    new Square(model, { eps: 0.02, nQueries: 20 }), new AutoAttack(model, { eps: 0.01, steps: 3, nQueries: 20 })];
  const once = () => { for (const a of attacks) runAttack(a, x, labels).adv.dispose(); };
  once();
  const before = torch.liveTensors();
  once(); once();
  assert.equal(torch.liveTensors(), before);
  const { linf } = perImageNorms(torch.zeros([2, 1, 2, 2]));
  linf.dispose();
});
