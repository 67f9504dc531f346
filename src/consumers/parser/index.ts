export { startParserRole } from './role.js';
export { FileParser, type FileParserOptions } from './file-parser.js';
// Types only: parse-file.ts loads pdf.js's legacy build, whose core-js polyfills replace
// JSON.stringify, JSON.parse and Array.prototype.push in the thread that loads it (6×
// and 3× slower here). Only the parse worker may load it (test/native-builtins.unit.test.ts).
export type { ParseLimits, ParsedFile } from './parse-file.js';
