// `csgnet info`: libtorch, BLAS, oneDNN, threads and CUDA as loaded; warns about a slow setup.
import type { Command } from 'commander';
import { threadsOption } from '../options.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  program.command('info').description('libtorch version, the BLAS and oneDNN actually loaded, thread counts, CUDA; warns about a slow setup')
    .addOption(threadsOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { torchInfo } = await import('../../torch/info.js');
      const i = torchInfo();
      for (const w of i.warnings) stderrLine(`csgnet: warning: ${w}`);
      if (o.json) { console.log(JSON.stringify(i)); return; }
      const { formatInfo } = await import('../format.js');
      console.log(formatInfo(i));
    });
}
