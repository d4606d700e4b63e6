// One rank of `npm run bench dist`'s allreduce timing: node dist_worker.js <rank> <worldSize> <port> <floats,...>
// For each size, times allreduce (sum) of a float32 tensor of that many elements, the way the gradient
// buckets of one step are reduced; prints one JSON line of median milliseconds per size.
import * as torch from '../torch/index.js';
import { median } from './step.js';

const [rank, world, port] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const sizes = process.argv[5]!.split(',').map(Number);

async function main(): Promise<void> {
  torch.setNumThreads(1);
  const g = await torch.distributed.initProcessGroup({ rank, worldSize: world, masterPort: port, timeoutMs: 120_000 });
  const out: Record<string, number> = {};
  for (const n of sizes) {
    const t = torch.ones([n]);
    const reps = n > 1e7 ? 5 : 30;
    const times: number[] = [];
    for (let i = 0; i < reps + 2; i++) {
      await g.barrier();
      const t0 = performance.now();
      await g.allReduce(t);
      if (i >= 2) times.push(performance.now() - t0);
    }
    out[String(n)] = median(times);
    t.dispose();
  }
  if (rank === 0) process.stdout.write(JSON.stringify({ allreduce_ms: out }) + '\n');
  await g.destroy();
}

main().catch((e) => { process.stderr.write(`dist_worker rank ${rank}: ${(e as Error).message}\n`); process.exitCode = 1; });
