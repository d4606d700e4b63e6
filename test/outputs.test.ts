// --out of file outputs (export, report) is checked before any work: an existing file only with
// --force, never a file a run's training owns (its checkpoints above all), never a folder or '/'.
// Folder outputs (localize, adversarial, export --html, features, analyze, compare, data cluttered) are
// checked before any work too: never '/', a file, a run folder itself or another run's folder; and
// file-system errors while writing name the flag and the path.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir, checkOutputFile, outputError, writingOutput } from '../src/app/outputs.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-out-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// A run folder as training leaves it (the checks come before the run is opened, so stand-ins do).
const run = join(tmp, 'run');
mkdirSync(join(run, 'checkpoints'), { recursive: true });
writeFileSync(join(run, 'config.json'), '{}');
writeFileSync(join(run, 'metrics.jsonl'), '{"epoch":1}\n');
writeFileSync(join(run, 'checkpoints', 'last.safetensors'), 'the weights');
writeFileSync(join(tmp, 'old.onnx'), 'an earlier export');

test('checkOutputFile: existing files need force; run-owned files, folders, / and missing folders are refused', () => {
  assert.equal(checkOutputFile('--out', join(tmp, 'new.onnx')), join(tmp, 'new.onnx'));
  assert.throws(() => checkOutputFile('--out', join(tmp, 'old.onnx')), /--out .*old\.onnx: exists; add --force to replace it/);
  assert.equal(checkOutputFile('--out', join(tmp, 'old.onnx'), { force: true }), join(tmp, 'old.onnx'));
  for (const owned of [join(run, 'checkpoints', 'last.safetensors'), join(run, 'metrics.jsonl'), join(run, 'config.json'), join(run, 'checkpoints', 'new.bin')]) {
    assert.throws(() => checkOutputFile('--out', owned, { force: true }), /belongs to the training of run/, owned);
  }
  assert.equal(checkOutputFile('--out', join(run, 'model.onnx')), join(run, 'model.onnx'), 'a new file beside the run\'s own files is fine');
  assert.throws(() => checkOutputFile('--out', '/'), /the file-system root is not a file/);
  assert.throws(() => checkOutputFile('--out', tmp, { force: true }), /is a folder; give a file name/);
  assert.equal(checkOutputFile('--out', join(tmp, 'new', 'folder', 'x.onnx')), join(tmp, 'new', 'folder', 'x.onnx'), 'missing folders are made');
  assert.throws(() => checkOutputFile('--out', join(tmp, 'old.onnx', 'x.onnx')), /old\.onnx is a file, not a folder/);
  assert.throws(() => checkOutputFile('--out', ' '), /--out: empty path/);
});

test('export --out onto a checkpoint and report --out onto metrics.jsonl are refused; nothing is written', () => {
  const exp = runCli(['export', '--run', run, '--out', join(run, 'checkpoints', 'last.safetensors'), '--force']);
  assert.notEqual(exp.status, 0);
  assert.match(exp.stderr, /--out .*last\.safetensors: that file belongs to the training of run/);
  assert.equal(readFileSync(join(run, 'checkpoints', 'last.safetensors'), 'utf8'), 'the weights');
  const again = runCli(['export', '--run', run, '--out', join(tmp, 'old.onnx')]);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /old\.onnx: exists; add --force/);
  assert.equal(readFileSync(join(tmp, 'old.onnx'), 'utf8'), 'an earlier export');
  const rep = runCli(['report', run, '--out', join(run, 'metrics.jsonl')]);
  assert.notEqual(rep.status, 0);
  assert.match(rep.stderr, /metrics\.jsonl: that file belongs to the training of run/);
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8'), '{"epoch":1}\n');
});

// A second stand-in run, for "another run's folder".
const other = join(tmp, 'other');
mkdirSync(join(other, 'checkpoints'), { recursive: true });
writeFileSync(join(other, 'config.json'), '{}');

test('checkOutputFile: a file inside another run than the ones read is refused (export --out OTHER/model.onnx)', () => {
  assert.equal(checkOutputFile('--out', join(run, 'model.onnx'), { runs: [run] }), join(run, 'model.onnx'), 'the exported run\'s own folder');
  assert.throws(() => checkOutputFile('--out', join(other, 'model.onnx'), { runs: [run] }), /--out .*model\.onnx: is inside run .*other, not the run this command reads/);
  const exp = runCli(['export', '--run', run, '--out', join(other, 'model.onnx')]);
  assert.notEqual(exp.status, 0);
  assert.match(exp.stderr, /--out .*other\/model\.onnx: is inside run .*other, not the run this command reads/);
  assert.equal(existsSync(join(other, 'model.onnx')), false);
});

test('checkOutputDir: /, files, run folders, other runs and foreign contents are refused by flag and path', () => {
  const replace = { runs: [run], mode: 'replace' as const, owns: ['localization.json', 'maps'] };
  assert.equal(checkOutputDir('--out', join(run, 'localization'), replace), join(run, 'localization'), "the run's own result folder");
  assert.equal(checkOutputDir('--out', join(tmp, 'fresh', 'deeper'), replace), join(tmp, 'fresh', 'deeper'));
  assert.throws(() => checkOutputDir('--out', '/', replace), /^Error: --out \/: the file-system root; give a folder of its own$/);
  assert.throws(() => checkOutputDir('--out', '', replace), /--out: empty path/);
  assert.throws(() => checkOutputDir('--out', join(tmp, 'old.onnx'), replace), /--out .*old\.onnx: is a file, not a folder/);
  assert.throws(() => checkOutputDir('--out', join(tmp, 'old.onnx', 'x'), replace), /--out .*old\.onnx\/x: .*old\.onnx is a file, not a folder/);
  assert.throws(() => checkOutputDir('--out', run, { ...replace, suggest: 'RUN/localization' }), /--out .*run: is a run folder .*e\.g\. RUN\/localization/);
  assert.throws(() => checkOutputDir('--out', join(run, 'checkpoints'), replace), /is inside the checkpoints of run/);
  assert.throws(() => checkOutputDir('--out', join(other, 'localization'), replace), /--out .*other\/localization: is inside run .*other, not the run this command reads \(.*run\)/);
  assert.throws(() => checkOutputDir('--out', other, replace), /is a run folder/);
  // Another name of the other run is the other run.
  symlinkSync(other, join(tmp, 'alias'));
  assert.throws(() => checkOutputDir('--out', join(tmp, 'alias', 'localization'), replace), /is inside run .*other/);
  // An existing folder: only this command's earlier results may be replaced (mode replace), nothing may be there (empty).
  const earlier = join(tmp, 'earlier');
  mkdirSync(join(earlier, 'maps'), { recursive: true });
  writeFileSync(join(earlier, 'localization.json'), '{}');
  assert.equal(checkOutputDir('--out', earlier, replace), earlier);
  assert.throws(() => checkOutputDir('--out', earlier, { mode: 'empty' }), /--out .*earlier: the folder exists and is not empty \(it holds localization\.json, maps\); choose a new or empty folder/);
  writeFileSync(join(earlier, 'notes.txt'), 'mine');
  assert.throws(() => checkOutputDir('--out', earlier, replace), /earlier: the folder exists and holds what this command did not write: notes\.txt/);
  assert.equal(checkOutputDir('--out', earlier, { runs: [run], mode: 'add' }), earlier, 'add: files go beside what is there');
});

test('file-system errors while writing name the flag and the path, never a temp file', async () => {
  const errno = (code: string, path: string) => Object.assign(new Error(`${code}: raw, rename '${path}'`), { code, syscall: 'rename', path });
  const cases: [string, RegExp][] = [['EISDIR', /is a folder, not a file/], ['ENOTDIR', /a part of the path is a file, not a folder/], ['EACCES', /permission denied/],
    ['ENOSPC', /no space left on the device/], ['EROFS', /read-only file system/], ['ENOENT', /no such file or folder/], ['EEXIST', /exists already/]];
  for (const [code, text] of cases) {
    const e = outputError('--out', 'x/model.onnx', errno(code, 'x/.model.onnx.tmp-123-0')) as Error;
    assert.match(e.message, new RegExp(`^--out x/model\\.onnx: ${text.source}$`), code);
  }
  assert.match((outputError('--out', 'd', errno('EACCES', 'd/masks/a.png')) as Error).message, /^--out d: permission denied \(d\/masks\/a\.png\)$/);
  const plain = new Error('not a file-system error');
  assert.equal(outputError('--out', 'x', plain), plain);
  // A real one: writing a file where a folder is.
  await assert.rejects(writingOutput('--html', tmp, () => writeFileSync(tmp, 'x')), new RegExp(`^Error: --html ${tmp}: is a folder, not a file$`));
  // Through a command: /proc takes no new folder (ENOENT from mkdir, though /proc exists; the old code's
  // recursive mkdir looped there for ever, hence the timeout).
  const r = runCli(['data', 'cluttered', '--limit', '3', '--out', '/proc/csgnet-test'], { timeout: 60000 });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'csgnet: --out /proc/csgnet-test: no such file or folder\n');
});

test('every folder --out is checked before any work: the stand-in runs are never opened', () => {
  const file = join(tmp, 'old.onnx');
  const cases: [string[], RegExp][] = [
    [['localize', '--run', run, '--out', '/'], /--out \/: the file-system root/],
    [['localize', '--run', run, '--out', join(other, 'localization')], /--out .*other\/localization: is inside run .*other, not the run this command reads/],
    [['localize', '--run', run, '--out', other], /--out .*other: is a run folder/],
    [['localize', '--run', run, '--out', file], /--out .*old\.onnx: is a file, not a folder/],
    [['adversarial', '--run', run, '--out', '/'], /--out \/: the file-system root/],
    [['adversarial', '--run', run, '--out', join(other, 'adversarial')], /--out .*other\/adversarial: is inside run .*other/],
    [['adversarial', '--run', run, '--out', run], /--out .*run: is a run folder .*e\.g\. .*run\/adversarial/],
    [['export', '--run', run, '--html', join(other, 'site')], /--html .*other\/site: is inside run .*other/],
    [['export', '--run', run, '--html', '/'], /--html \/: the file-system root/],
    [['export', '--run', run, '--html', file], /--html .*old\.onnx: is a file, not a folder/],
    [['features', '--run', run, '--out', '/'], /--out \/: the file-system root/],
    [['features', '--run', run, '--out', other], /--out .*other: is a run folder/],
    [['analyze', '--run', run, '--out', join(other, 'analysis')], /--out .*other\/analysis: is inside run .*other/],
    [['data', 'cluttered', '--out', file, '--data-root', join(tmp, 'no-data')], /--out .*old\.onnx: is a file, not a folder/],
    [['data', 'cluttered', '--out', '/', '--data-root', join(tmp, 'no-data')], /--out \/: the file-system root/],
  ];
  for (const [args, why] of cases) {
    const t0 = performance.now();
    const r = runCli(args);
    assert.equal(r.status, 1, args.join(' '));
    // The message is the --out check's, not the stand-in run's ('{}' is no config) nor the missing data's.
    assert.match(r.stderr, new RegExp(`^csgnet: ${why.source}`), `${args.join(' ')}: ${r.stderr}`);
    assert.ok(performance.now() - t0 < 20000, `${args.join(' ')} took ${performance.now() - t0} ms`);
  }
});
