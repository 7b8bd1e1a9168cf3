/**
 * A failure caused by the user's input (files, flags, data, environment) rather than by a bug.
 * The CLI prints its message as one line and exits 1; the stack is shown only with --trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError || (e instanceof Error && e.name === 'UserError');
}
