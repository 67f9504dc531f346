/**
 * Registry of stable error codes. A code is never reused or renamed once shipped;
 * retire it by leaving it here with `retired: true`. docs/errors.md is generated from
 * this table (`npm run docs`) and a unit test keeps the two in step.
 */
export const errorCodes = {
  CONFIG_INVALID: {
    status: 500,
    retryable: false,
    description: 'A configuration value is missing or malformed; the message names the variable.',
  },
  NATS_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description: 'The NATS server cannot be reached or JetStream is not answering.',
  },
  DB_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description: 'PostgreSQL cannot be reached or refused the connection.',
  },
  DB_EXTENSION_MISSING: {
    status: 500,
    retryable: false,
    description: 'The PostgreSQL server has no pgvector extension (install pgvector >= 0.8).',
  },
  INTERNAL: {
    status: 500,
    retryable: false,
    description: 'An unexpected failure; details are logged, never returned.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export interface ErrorCodeInfo {
  /** HTTP status at the API boundary. */
  status: number;
  /** true: transient, worth retrying; false: permanent for this input. */
  retryable: boolean;
  description: string;
  retired?: boolean;
}

export type ErrorCode = keyof typeof errorCodes;
