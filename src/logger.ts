import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** @defaultValue 'info' */
  level?: LevelWithSilent;
  /** Where JSON lines go. @defaultValue stdout */
  destination?: DestinationStream;
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
      redact: { paths: ['*.password', '*.apiKey', 'headers.authorization'], censor: '***' },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}
