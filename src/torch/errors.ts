// The error every failing libtorch op turns into: which op (its registry name and full schema) and
// libtorch's own message, so callers can tell a shape error from their own bugs and report it.
export class TorchError extends Error {
  constructor(readonly op: string, readonly schema: string, readonly libtorchMessage: string) {
    super(`${op}: ${libtorchMessage}`);
    this.name = 'TorchError';
  }
}
