// One rank of the 2-process tests in test/distributed.test.ts:
//   node dist_worker.js <scenario> <rank> <worldSize> <port> [storePath]
// prints one JSON line (results, or {error}) on stdout.
import { readFile } from 'node:fs/promises';
import * as torch from '../../src/torch/index.js';

const [scenario, rankArg, sizeArg, portArg, storePath] = process.argv.slice(2);
const rank = Number(rankArg), worldSize = Number(sizeArg), masterPort = Number(portArg);
const report = (x: unknown) => process.stdout.write(JSON.stringify(x) + '\n');
// Never outlive the test, whatever happens.
setTimeout(() => { report({ error: 'worker watchdog' }); process.exit(3); }, 15_000).unref();

async function collectives(pg: torch.distributed.ProcessGroup): Promise<Record<string, unknown>> {
  const f32 = torch.tensor([rank + 1, 10 * (rank + 1), 0.25], { dtype: 'float32' });
  const f64 = torch.tensor([[rank, -rank], [1e-3 * rank, 1]], { dtype: 'float64' });
  const i64 = torch.tensor([rank + 2, 2 ** 40], { dtype: 'int64' });
  await pg.allReduce(f32);
  await pg.allReduce(f64);
  await pg.allReduce(i64);
  const b = torch.arange(0, 6, 1, { dtype: 'float32' }).mul(rank + 1).reshape([2, 3]);
  await pg.broadcast(b, 0);
  const b1 = torch.full([2], 100 + rank, { dtype: 'float32' });
  await pg.broadcast(b1, 1);
  const gathered = await pg.allGather(torch.tensor([rank, 2 * rank, 7], { dtype: 'float32' }));
  // The wait is off the main thread: timers fire while rank 0 waits for a late rank 1, and (run with
  // UV_THREADPOOL_SIZE=1) file reads still complete: no libuv pool thread is held by the wait.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  if (rank === 1) await new Promise((r) => setTimeout(r, 400));
  const before = ticks;
  let barrierDone = false;
  const barrier = pg.barrier().then(() => { barrierDone = true; });
  await readFile(process.argv[1]);
  const readWhileWaiting = !barrierDone;
  await barrier;
  clearInterval(timer);
  return {
    allReduceF32: f32.tolist(), allReduceF64: f64.tolist(), allReduceI64: i64.tolist().map(String),
    broadcast0: b.tolist(), broadcast1: b1.tolist(), allGather: gathered.map((t) => t.tolist()),
    ticksDuringBarrier: ticks - before, readWhileWaiting,
  };
}

async function main(): Promise<void> {
  const timeoutMs = scenario === 'collectives' ? 10_000 : 2000;
  const pg = await torch.distributed.initProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort, timeoutMs, storePath });
  if (scenario === 'collectives') {
    report({ rank, ...(await collectives(pg)) });
  } else if (scenario === 'peer-exit' || scenario === 'peer-stall') {
    await pg.barrier();
    if (rank === 1 && scenario === 'peer-exit') process.exit(0);  // dies without leaving the group
    if (rank === 1) {  // alive but never joins the collective: rank 0 must time out
      await new Promise((r) => setTimeout(r, 3000));
      process.exit(0);
    }
    const t0 = Date.now();
    try {
      await pg.allReduce(torch.ones([4]));
      report({ rank, error: null });
    } catch (e) {
      report({ rank, error: (e as Error).message, elapsedMs: Date.now() - t0 });
    }
  }
  await pg.destroy();
}

main().catch((e) => { report({ rank, error: (e as Error).message }); process.exitCode = 1; });
