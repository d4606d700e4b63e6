// `csgnet export --run R --format onnx --out model.onnx`: thin over src/app/export.ts.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { addRunOptions, threadsOption } from '../options.js';
import { stderrNote as note } from '../format.js';

const OUTPUTS = ['logits', 'features', 'maps'];

function outputList(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => !OUTPUTS.includes(s));
  if (bad.length || list.length === 0) throw new InvalidArgumentError(`unknown output(s) ${bad.join(', ') || '(none)'}; choose from ${OUTPUTS.join(', ')} (comma-separated)`);
  if (new Set(list).size !== list.length) throw new InvalidArgumentError(`'${v}' names an output twice`);
  return list;
}

export function register(program: Command): void {
  addRunOptions(program.command('export').description('export a run\'s model (evaluation path) as ONNX (opset 17, dynamic batch; classes, normalization and gate in metadata_props)'))
    .addOption(new Option('--format <f>', 'file format').choices(['onnx']).default('onnx'))
    .option('--outputs <list>', 'graph outputs, comma-separated: logits [N,C], features (GAP) [N,K], maps (last conv map) [N,K,h,w]', outputList, ['logits'])
    .option('--include-normalization', 'take pixels in [0,1] (v/255) and normalize inside the graph (default: the input is already normalized)')
    .option('--out <file>', 'the .onnx file to write (an existing file only with --force)')
    .option('--force', 'replace an existing --out file (never a file of a run\'s training: config, metrics, checkpoints)')
    .option('--html <dir>', 'write the in-browser explorer instead: a static folder (page, model with logits+maps and normalization inside, samples, onnxruntime-web) for any web server')
    .addOption(threadsOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      if (o.html) {
        if (o.out) throw new Error('export: --html writes the explorer folder (its model is model.onnx inside); give --out or --html, not both');
        const { writeExplorerSite } = await import('../../app/explore.js');
        const files = await writeExplorerSite(o.run, o.html, { checkpoint: o.checkpoint, log: note });
        console.log(o.json ? JSON.stringify({ html: o.html, files }) : `wrote the explorer to ${o.html} (${files.length} files); serve the folder over HTTP (file:// cannot load wasm)`);
        return;
      }
      if (!o.out) throw new Error('export: give --out <file.onnx> (or --html <dir> for the browser explorer)');
      const { checkOutputFile } = await import('../../app/outputs.js');
      checkOutputFile('--out', o.out, { force: o.force, runs: [o.run] });
      const { exportRunToFile } = await import('../../app/export.js');
      const r = await exportRunToFile({ run: o.run, checkpoint: o.checkpoint, outputs: o.outputs, includeNormalization: !!o.includeNormalization, out: o.out, log: note });
      if (o.json) { console.log(JSON.stringify(r)); return; }
      console.log(`wrote ${r.out} (${(r.bytes / 1e6).toFixed(2)} MB): ${r.model}, epoch ${r.epoch}, input [N, ${r.inputShape.join(', ')}] ` +
        `${r.input === 'unit' ? 'pixels in [0,1] (normalized in the graph)' : 'normalized'}, outputs ${r.outputs.join(', ')}${r.gate ? ', gate in metadata' : ''}`);
    });
}
