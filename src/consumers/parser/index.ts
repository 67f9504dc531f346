export { startParserRole } from './role.js';
export { FileParser, type FileParserOptions } from './file-parser.js';
export { parseFile, type ParseLimits, type ParsedFile } from './parse-file.js';
