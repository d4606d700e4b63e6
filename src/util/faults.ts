// Fault injection for crash tests: CSGNET_FAULT=NAME@N kills this process with SIGKILL the N-th time
// (1-based) execution passes faultPoint(NAME), as a power cut or `kill -9` would at that instant.
// Unset (always, outside tests) it costs one comparison per call.
const spec = process.env.CSGNET_FAULT ? /^(.+)@(\d+)$/.exec(process.env.CSGNET_FAULT) : null;
if (process.env.CSGNET_FAULT && !spec) throw new Error(`CSGNET_FAULT must look like NAME@N, got ${JSON.stringify(process.env.CSGNET_FAULT)}`);
let seen = 0;

export function faultPoint(name: string): void {
  if (!spec || spec[1] !== name) return;
  if (++seen === Number(spec[2])) process.kill(process.pid, 'SIGKILL');
}
