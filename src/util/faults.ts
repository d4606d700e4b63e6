// Fault injection for crash tests: CSGNET_FAULT=NAME@N kills this process with SIGKILL the N-th time
// (1-based) execution passes faultPoint(NAME), as a power cut or `kill -9` would at that instant.
// Unset (always, outside tests) it costs one comparison per call.
const spec = process.env.CSGNET_FAULT ? /^(.+)@(\d+)$/.exec(process.env.CSGNET_FAULT) : null;
if (process.env.CSGNET_FAULT && !spec) throw new Error(`CSGNET_FAULT must look like NAME@N, got ${JSON.stringify(process.env.CSGNET_FAULT)}`);
// CSGNET_FAULT_RANK=r limits it to the data-parallel rank r (environment RANK), to kill one rank of a group.
const rankOnly = process.env.CSGNET_FAULT_RANK;
const active = spec !== null && (rankOnly === undefined || rankOnly === process.env.RANK);
let seen = 0;

export function faultPoint(name: string): void {
  if (!active || spec![1] !== name) return;
  if (++seen === Number(spec[2])) process.kill(process.pid, 'SIGKILL');
}
