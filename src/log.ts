import { pino, type Logger } from 'pino';

/** The daemon's logger: pino JSON lines on stdout (journald and Docker collect them). */
export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { service: 'webfilter' }, timestamp: pino.stdTimeFunctions.isoTime });
}
