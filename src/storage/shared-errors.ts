import { StorageError } from './storage.js';

/**
 * The shared store cannot be reached now (refused, timed out, paused, down). Nothing was changed
 * there; the message names the server (never its password) and what to do.
 */
export class SharedUnavailableError extends StorageError {
  constructor(message: string) {
    super(message);
    this.name = 'SharedUnavailableError';
  }
}
