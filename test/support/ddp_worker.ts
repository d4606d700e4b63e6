// One rank of test/data_parallel.test.ts's primitive checks, or (worldSize 1) the single-process
// reference: node ddp_worker.js <worldSize> <rank> <port> <syncBn 0|1>
// Three SGD steps of conv -> BatchNorm -> ReLU -> pool -> linear in float64 on this rank's share of a
// fixed batch of 8, gradients averaged by GradientReducer (tiny buckets, so there are several);
// prints the parameters, running statistics and the first step's gradients as one JSON line.
// With a 5th argument N > 0 (memory mode) it instead runs N steps, both BatchNorm modes alternating,
// plus the trainer's per-step sums, and reports live tensors and RSS after a quarter of them (allocator warm-up) and at the end.
import * as torch from '../../src/torch/index.js';
import { SGD } from '../../src/torch/optim/index.js';

const [world, rank, port, sync, memorySteps] = process.argv.slice(2).map(Number) as [number, number, number, number, number | undefined];
const report = (x: unknown) => process.stdout.write(JSON.stringify(x) + '\n');
setTimeout(() => { report({ error: 'worker watchdog' }); process.exit(3); }, 60_000).unref();

async function main(): Promise<void> {
  torch.setNumThreads(1);
  const group = world > 1 ? await torch.distributed.initProcessGroup({ rank, worldSize: world, masterPort: port, timeoutMs: 10_000 }) : null;
  // Each rank starts from different weights: the broadcast from rank 0 must make them equal.
  torch.manualSeed(group ? 1 + rank : 1);
  const conv = new torch.nn.Conv2d(2, 4, 3, { padding: 1 }).to({ dtype: 'float64' });
  const bn = new torch.nn.BatchNorm2d(4).to({ dtype: 'float64' });
  const fc = new torch.nn.Linear(4, 3).to({ dtype: 'float64' });
  if (group) torch.manualSeed(1); // rank 0's draw, for the check below
  const modules = [conv, bn, fc];
  const params = modules.flatMap((m) => m.parameters());
  const buffers = bn.buffers();
  let reducer: torch.nn.GradientReducer | null = null;
  if (group) {
    if (sync) torch.nn.convertSyncBatchNorm(bn, group);
    torch.nn.parallel.syncParameters(group, [...params, ...buffers]);
    reducer = new torch.nn.GradientReducer(group, params, { bucketCapMb: 1e-4, firstBucketMb: 1e-4 });
  }
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
  torch.manualSeed(1234);
  const X = torch.randn([3, 8, 2, 5, 5], { dtype: 'float64' });
  const Y = torch.tensor([[0, 1, 2, 0, 1, 2, 2, 1], [1, 1, 0, 0, 2, 2, 0, 1], [2, 0, 1, 1, 0, 2, 1, 0]], { dtype: 'int64' });
  const per = 8 / world;
  if (memorySteps) {
    const probe: Record<string, number> = {};
    for (let step = 0; step < memorySteps; step++) {
      torch.tidy(() => {
        const x = X.select(0, step % 3).narrow(0, rank * per, per), y = Y.select(0, step % 3).narrow(0, rank * per, per);
        torch.nn.convertSyncBatchNorm(bn, step % 2 ? group : null);
        opt.zeroGrad();
        if (step % 2 === 0) torch.nn.parallel.syncBuffers(group!, bn);
        reducer!.prepare();
        torch.F.crossEntropy(fc.call(torch.F.relu(bn.call(conv.call(x))).mean([2, 3])), y).backward();
        opt.step();
      });
      const t = torch.tensor([1, step], { dtype: 'float64' });
      await group!.allReduce(t);
      t.dispose();
      if (step === Math.floor(memorySteps / 4)) { global.gc?.(); probe.liveStart = torch.liveTensors(); probe.rssStart = process.memoryUsage().rss; }
    }
    global.gc?.();
    report({ rank, ...probe, liveEnd: torch.liveTensors(), rssEnd: process.memoryUsage().rss });
    reducer!.dispose();
    await group!.destroy();
    return;
  }
  let firstGrads: number[][] = [];
  for (let step = 0; step < 3; step++) {
    const x = X.select(0, step).narrow(0, rank * per, per), y = Y.select(0, step).narrow(0, rank * per, per);
    torch.tidy(() => {
      opt.zeroGrad();
      if (group && !sync) torch.nn.parallel.syncBuffers(group, bn);
      reducer?.prepare();
      const h = torch.F.relu(bn.call(conv.call(x))).mean([2, 3]);
      torch.F.crossEntropy(fc.call(h), y).backward();
      if (step === 0) firstGrads = params.map((p) => Array.from(p.grad!.flatten().data() as Float64Array));
      opt.step();
    });
  }
  const flat = (ts: torch.Tensor[]) => ts.map((t) => Array.from(t.flatten().to('float64').data() as Float64Array));
  report({ rank, params: flat(params), buffers: flat(buffers.filter((b) => b.dtype === 'float64')), firstGrads });
  reducer?.dispose();
  await group?.destroy();
}

main().catch((e) => { report({ rank, error: (e as Error).message }); process.exitCode = 1; });
