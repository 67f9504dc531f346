import { int } from './options.js';
import { opt } from './option-spec.js';

/** Chunking: how large a chunk is and how much of the previous one it repeats. */
export const chunkingOptions = {
  chunkMaxTokens: opt({
    env: 'SLUICE_CHUNK_MAX_TOKENS',
    default: '0',
    parse: int(0, 8192),
    doc: "Most tokens in a chunk, headings included (0: the model's limit, less its special tokens).",
  }),
  chunkOverlapTokens: opt({
    env: 'SLUICE_CHUNK_OVERLAP_TOKENS',
    default: '32',
    parse: int(0, 1024),
    doc: 'Tokens of the previous chunk repeated at the start of the next (whole sentences where they fit).',
  }),
};
