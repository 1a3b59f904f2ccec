/**
 * A packet the server cannot serve. `rcode` is what the edge should answer with; `null` means the
 * packet is dropped without an answer (unreadable header, or a response sent to us).
 */
export class WireError extends Error {
  constructor(
    message: string,
    readonly rcode: number | null,
  ) {
    super(message);
    this.name = 'WireError';
  }
}
