import { bytes, duration, int } from './options.js';
import { opt } from './option-spec.js';

/** Documents and files: size limits, the claim check, the parser's bounds. */
export const documentOptions = {
  maxDocumentBytes: opt({
    env: 'SLUICE_MAX_DOCUMENT_BYTES',
    default: '16M',
    parse: bytes,
    doc: 'Largest document text accepted; a larger one is rejected with DOCUMENT_TOO_LARGE.',
  }),
  fileMaxBytes: opt({
    env: 'SLUICE_FILE_MAX_BYTES',
    default: '64M',
    parse: bytes,
    doc: 'Largest raw file (PDF, HTML, DOCX) accepted by POST /v1/documents/{collection}/{id}, sluice publish and the SDK; a larger one is FILE_TOO_LARGE.',
  }),
  filesMaxAge: opt({
    env: 'SLUICE_FILES_MAX_AGE',
    default: '0',
    parse: duration,
    doc: 'Age after which raw files expire from the files bucket (0: never). A replay re-parses from them: keep them as long as the event log. Applies when the bucket is created.',
  }),
  parseMaxPages: opt({
    env: 'SLUICE_PARSE_MAX_PAGES',
    default: '5000',
    parse: int(1, 1_000_000),
    doc: 'Most pages of a PDF the parser reads; a longer one is dead-lettered as FILE_TOO_LARGE.',
  }),
  parseTimeout: opt({
    env: 'SLUICE_PARSE_TIMEOUT',
    default: '2m',
    parse: duration,
    doc: 'Longest the parser spends on one file; past it the parsing thread is stopped and the file dead-lettered as FILE_TOO_LARGE.',
  }),
  parseMaxMemory: opt({
    env: 'SLUICE_PARSE_MAX_MEMORY',
    default: '512M',
    parse: bytes,
    doc: "Heap of the parser's worker thread; a file that needs more is dead-lettered as FILE_TOO_LARGE (a DOCX may unpack to half of it).",
  }),
  claimCheckBytes: opt({
    env: 'SLUICE_CLAIM_CHECK_BYTES',
    default: '256k',
    parse: bytes,
    doc: 'Document text larger than this goes to the object store and the event carries a reference.',
  }),
};
