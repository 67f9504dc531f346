import type { Parser } from './options.js';

/** One row of the configuration table. */
export interface OptionSpec<T> {
  /** Environment variable that sets it. */
  env: string;
  /** Value used when the variable is unset; `undefined` makes the option required. */
  default: string | undefined;
  parse: Parser<T>;
  /** One line for the README's config table. */
  doc: string;
  /** Never printed whole (passwords in URLs). */
  secret?: boolean;
}

export function opt<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

/** The parsed values of a group of options: `{ key: T }` for every `key: OptionSpec<T>`. */
export type OptionValues<S> = {
  -readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};
