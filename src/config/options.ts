/**
 * Parsers for configuration values. Each takes the raw string and returns the value,
 * or throws an Error whose message says what was expected.
 */
export type Parser<T> = (raw: string) => T;

export const str: Parser<string> = (raw) => raw;

export function int(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got '${raw}'`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export function num(min: number, max: number): Parser<number> {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new Error(`expected a number, got '${raw}'`);
    if (n < min || n > max) throw new Error(`expected a number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

export const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got '${raw}'`);
};

export function oneOf<const T extends string>(...values: T[]): Parser<T> {
  return (raw) => {
    if ((values as string[]).includes(raw)) return raw as T;
    throw new Error(`expected one of ${values.join(', ')}, got '${raw}'`);
  };
}

export function pattern(re: RegExp, what: string): Parser<string> {
  return (raw) => {
    if (!re.test(raw)) throw new Error(`expected ${what}, got '${raw}'`);
    return raw;
  };
}

export function list<T>(item: Parser<T>): Parser<T[]> {
  return (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(item);
}

export function url(...protocols: string[]): Parser<string> {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`expected a URL, got '${redact(raw)}'`);
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`expected a ${protocols.join(' or ')} URL, got '${redact(raw)}'`);
    }
    return raw;
  };
}

/** Byte sizes such as 1048576, 512k, 8M or 1G. */
export const bytes: Parser<number> = (raw) => {
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(raw.trim());
  if (!m) throw new Error(`expected a size such as 262144, 256k or 8M, got '${raw}'`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()] ?? 1;
  return Number(m[1]) * scale;
};

/** Durations such as 500ms, 30s, 5m, 2h, 7d, or 0 (meaning "none"). Returns milliseconds. */
export const duration: Parser<number> = (raw) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new Error(`expected a duration such as 500ms, 30s, 5m, 2h or 7d, got '${raw}'`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(Number(m[1]) * scale);
};

/** `key=value` pairs, comma-separated, values URL-encoded (the OTEL_EXPORTER_OTLP_HEADERS format). */
export const keyValues: Parser<Record<string, string>> = (raw) => {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`expected key=value pairs, got '${pair.trim()}'`);
    try {
      out[pair.slice(0, i).trim()] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      throw new Error(`the value of '${pair.slice(0, i).trim()}' is not URL-encoded`);
    }
  }
  return out;
};

/** Hides the password of a URL so it can appear in errors and logs. */
export function redact(raw: string): string {
  return raw.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): false (none, the
 * default), true (any: only behind a proxy that sets it), a hop count, or addresses
 * and CIDRs, comma-separated.
 */
export const trustProxy: Parser<boolean | number | string[]> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
  if (['true', 'yes', 'on'].includes(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const a of list)
    if (
      !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a) &&
      !['loopback', 'linklocal', 'uniquelocal'].includes(a)
    )
      throw new Error(`expected true, false, a hop count or addresses/CIDRs, got '${a}'`);
  return list;
};
