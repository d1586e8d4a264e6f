// The FIB's typed error for bad arguments and refused changes on the control path
// (mtrie, tables, routes); `code` is a stable POSIX-style name (EINVAL, EBUSY, …).

export class FibError extends Error {
  override readonly name = 'FibError';
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}
