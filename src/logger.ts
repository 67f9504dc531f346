import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import { traceFields } from './tracing/index.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** @defaultValue 'info' */
  level?: LevelWithSilent;
  /** Where log lines go. @defaultValue stdout */
  destination?: DestinationStream;
  /** Lines for people (pino-pretty) instead of JSON. @defaultValue false */
  pretty?: boolean;
}

/** Whether `LOG_FORMAT` asks for lines for people, given whether stdout is a terminal. */
export function wantsPretty(format: 'auto' | 'json' | 'pretty', terminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && terminal);
}

/**
 * The root logger. Modules take `root.child({ module })`, bound to their role or
 * durable name, never to user-controlled values.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      // A line written while a span is active names its trace (nothing when tracing is off).
      mixin: () => traceFields() ?? {},
      redact: { paths: ['*.password', '*.apiKey', 'headers.authorization'], censor: '***' },
      serializers: { err: pino.stdSerializers.err },
    },
    options.pretty
      ? // Synchronous, in this thread: a log line is written before a crash can lose it.
        pretty({
          sync: true,
          colorize: options.destination === undefined && process.stdout.isTTY,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          ...(options.destination === undefined ? {} : { destination: options.destination }),
        })
      : options.destination,
  );
}
