/**
 * Generated hostile inputs for the hostile-input suite: for each category, inputs
 * built from a seeded random source (the same seed, the same inputs), each sent over
 * HTTP ingest or published raw to NATS.
 */

/** mulberry32: small, fast, and the same on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = ReturnType<typeof random>;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const int = (r: Rand, lo: number, hi: number): number =>
  lo + Math.floor(r() * (hi - lo + 1));

const english = [
  'The committee reviewed the quarterly budget and approved the new hiring plan.',
  'Photosynthesis converts light energy into chemical energy stored in glucose.',
  'Our API returns paginated results; follow the next cursor to read the rest.',
  'Rainfall in the valley doubled this spring, flooding the lower fields twice.',
  'A binary search halves the interval each step until the target is found.',
];
/** Texts that are valid but unusual: scripts, directions, invisible characters. */
export const unusualTexts: Record<string, (r: Rand) => string> = {
  cjk: (r) =>
    Array.from({ length: int(r, 50, 3000) }, () =>
      String.fromCharCode(0x4e00 + int(r, 0, 20000)),
    ).join(''),
  emoji: (r) =>
    Array.from({ length: int(r, 10, 800) }, () =>
      pick(r, [
        '\u{1F600}',
        '\u{1F680}',
        '\u{1F469}\u200D\u{1F4BB}',
        '\u{1F1EB}\u{1F1F7}',
        '❤️',
        '\u{1F44D}\u{1F3FD}',
      ]),
    ).join(pick(r, ['', ' '])),
  rtl: (r) =>
    Array.from({ length: int(r, 3, 60) }, () =>
      pick(r, ['مرحبا بالعالم', 'שלום עולם', 'كتاب جديد', '\u202Eabc\u202C', 'العربية'] as const),
    ).join(' '),
  zeroWidth: (r) =>
    pick(r, english)
      .split('')
      .map(
        (c) => c + (r() < 0.3 ? pick(r, ['\u200B', '\u200C', '\u200D', '\uFEFF', '\u2060']) : ''),
      )
      .join(''),
  combining: (r) =>
    Array.from({ length: int(r, 20, 400) }, () => 'e' + '\u0301'.repeat(int(r, 1, 30))).join(''),
  controls: (r) =>
    pick(r, english).replace(/ /g, () =>
      pick(r, [' ', '\t', '\u0001', '\u001b[31m', '\u007f', '\r\n', '\u0085']),
    ),
  markdown: (r) =>
    `# Title ${int(r, 0, 999)}\n\n## Part\n\n${pick(r, english)}\n\n\`\`\`js\nconst x = ${int(r, 0, 9)};\n\`\`\`\n\n- a\n- b\n`,
  mixed: (r) =>
    `${pick(r, english)} 東京 ${pick(r, ['Ünïcödé', 'naïve café', 'Ωμέγα', 'Привет'])} \u{1F600}`,
  longWord: (r) => 'x'.repeat(int(r, 200, 20_000)),
  spaces: (r) => ' '.repeat(int(r, 1000, 50_000)) + 'end',
};

export function validEvent(
  r: Rand,
  o: { tenant: string; collection: string; documentId: string; id: string; text?: string },
): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: o.id,
    source: 'urn:hostile',
    type: 'sluice.document.upserted.v1',
    time: new Date(Date.UTC(2020, 0, 1) + int(r, 0, 1e10)).toISOString(),
    datacontenttype: 'application/json',
    data: {
      tenant: o.tenant,
      collection: o.collection,
      documentId: o.documentId,
      title: `Title ${o.documentId}`,
      text: o.text ?? `${pick(r, english)} ${pick(r, english)}`,
      metadata: { lang: pick(r, ['en', 'zh', 'ar']), n: String(int(r, 0, 99)) },
    },
  };
}

/** Values of the wrong type for any field. */
const wrongValues = (r: Rand): unknown[] => [
  int(r, -1e6, 1e6),
  r() * 1e300,
  true,
  null,
  [],
  ['a', 1],
  {},
  { nested: { deeper: [1, 2, 3] } },
  '',
];

const fields = [
  ['specversion'],
  ['id'],
  ['source'],
  ['type'],
  ['time'],
  ['data'],
  ['data', 'tenant'],
  ['data', 'collection'],
  ['data', 'documentId'],
  ['data', 'text'],
  ['data', 'title'],
  ['data', 'metadata'],
  ['data', 'mimeType'],
  ['data', 'uri'],
] as const;

function setPath(e: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let o = e;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[path[path.length - 1]!] = v;
}

/** A valid event with one field of the wrong type (never a valid string by chance). */
export function wrongType(r: Rand, base: Record<string, unknown>): Record<string, unknown> {
  const e = structuredClone(base);
  const path = pick(r, fields);
  let v = pick(r, wrongValues(r));
  // An empty string is a wrong value only where a non-empty one is required.
  if (v === '' && ['title', 'uri', 'metadata', 'text'].includes(path.at(-1)!)) v = 42;
  // An empty object is valid metadata.
  if (
    path.at(-1) === 'metadata' &&
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 0
  )
    v = 42;
  setPath(e, path, v);
  return e;
}

/** Malformed CloudEvent attributes, one per event. */
export function badAttribute(r: Rand, base: Record<string, unknown>): Record<string, unknown> {
  const e = structuredClone(base);
  const d = e.data as Record<string, unknown>;
  const mutations: (() => void)[] = [
    () => (e.specversion = pick(r, ['0.3', '2.0', '1', ' 1.0'])),
    () => delete e.specversion,
    () => delete e.id,
    () => (e.id = 'x'.repeat(int(r, 5000, 20_000))),
    () => delete e.source,
    () => (e.source = ''),
    () => delete e.type,
    () =>
      (e.type = pick(r, [
        'sluice.document.exploded.v1',
        'com.example.thing',
        'SLUICE.DOCUMENT.UPSERTED.V1',
      ])),
    () =>
      (e.time = pick(r, [
        '0000-01-01T00:00:00Z',
        '10000-01-01T00:00:00Z',
        '2024-13-45T25:61:00Z',
        'yesterday',
        '',
        '2024-02-30T00:00:00Z',
        '-000001-01-01T00:00:00Z',
      ])),
    () => (e.datacontenttype = pick(r, ['text/xml', 'application/octet-stream', 'nonsense'])),
    () => (e[pick(r, ['Bad-Name', 'UPPER', 'with space', 'x'.repeat(30), ''])] = 'v'),
    () => (e.data = pick(r, ['a string', 12, null, [1, 2]])),
    () => delete e.data,
    () => (d.tenant = pick(r, ['Acme', 'acme.beta', 'a b', '*', '>', '', 'x'.repeat(100)])),
    () => (d.collection = pick(r, ['Bad.Name', 'a b', '', '*', 'x'.repeat(100), 'ünï'])),
    () => (d.documentId = pick(r, ['', 'x'.repeat(5000)])),
    () => (d.mimeType = pick(r, ['application/pdf', 'text/html; charset=utf-8', ''])),
    () => (d.metadata = { [pick(r, ['', 'k'.repeat(500)])]: 'v' }),
    () => (d.metadata = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v']))),
    () => delete d.text,
    () => (d.extra = 'not in the contract'),
    () => (e.type = 'sluice.document.deleted.v1'), // a delete with a text: not a delete
  ];
  pick(r, mutations)();
  return e;
}

/** A valid event with a NUL or a lone surrogate somewhere a store would choke on it. */
export function unstorableChar(
  r: Rand,
  base: Record<string, unknown>,
  char: '\u0000' | 'surrogate',
): Record<string, unknown> {
  const e = structuredClone(base);
  const bad = char === '\u0000' ? '\u0000' : pick(r, ['\ud800', '\udfff', '\ud83d']);
  const d = e.data as Record<string, string | Record<string, string>>;
  const where = pick(r, [
    'text',
    'title',
    'metaKey',
    'metaValue',
    'documentId',
    'id',
    'source',
    'subject',
  ]);
  const insert = (s: string): string => {
    const at = int(r, 0, s.length);
    return s.slice(0, at) + bad + s.slice(at);
  };
  if (where === 'text') d.text = insert(d.text as string);
  else if (where === 'title') d.title = insert(d.title as string);
  else if (where === 'metaKey') d.metadata = { [insert('key')]: 'v' };
  else if (where === 'metaValue') d.metadata = { k: insert('value') };
  else if (where === 'documentId') d.documentId = insert(d.documentId as string);
  else if (where === 'id') e.id = insert(e.id as string);
  else if (where === 'source') e.source = insert(e.source as string);
  else e.subject = insert('subject');
  return e;
}

/** Bodies that are not JSON, or not only JSON. */
export function brokenJson(r: Rand, valid: string): string | Buffer {
  const kinds: (() => string | Buffer)[] = [
    () => valid.slice(0, int(r, 1, valid.length - 1)),
    () => `${valid}}`,
    () => `${valid} trailing`,
    () => valid.replace(/"/g, "'"),
    () => valid.replace(':', ''),
    () => Buffer.from(Array.from({ length: int(r, 1, 200) }, () => int(r, 0, 255))),
    () => '',
    () => 'null',
    () => '[]',
    () => '"just a string"',
    () => '{"a": NaN}',
    () =>
      Buffer.concat([
        Buffer.from(valid.slice(0, 40)),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(valid.slice(40)),
      ]),
  ];
  return pick(r, kinds)();
}

/** JSON nested `depth` levels deep inside metadata. */
export function deepJson(base: Record<string, unknown>, depth: number): string {
  const json = JSON.stringify(base);
  const at = json.indexOf('"metadata":') + '"metadata":'.length;
  const end = json.indexOf('}', at) + 1;
  return `${json.slice(0, at)}${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}${json.slice(end)}`;
}
